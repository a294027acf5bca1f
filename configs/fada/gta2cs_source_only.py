# Source-only stage of the FADA workflow, GTA5 -> Cityscapes (19 classes):
# the FADA network (torchvision-style ResNet-101, frozen BN) initialised
# from ImageNet and trained on GTA5 alone; its final checkpoint initialises
# configs/fada/gta2cs.py. Paper (seed 002) Table 3, ResNet-101 "Source only":
# 36.8 mIoU.
# It is configs/fada/gta2cs.py without the adversarial term and the
# temperature: same source augmentation (colour jitter, resize 1280x720),
# same segmentation optimiser (SGD 2.5e-4, classifier 10x, momentum 0.9,
# wd 5e-4, poly 0.9 over 62.5k iterations).
# Assumption (METHODS.md does not describe this stage): training stops at
# 20k iterations, as in the authors' released workflow (the adaptation
# starts from their model_iter020000); check before comparing numbers.
_base_ = ['./gta2cs.py']
model = dict(logit_temperature=1.0, uda_terms=[])
optim_wrapper = dict(_delete_=True, **_base_.optim_wrapper.segmentor)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        **dict(_base_.source_train, pipeline=_base_.fada_source_pipeline)))
train_cfg = dict(max_iters=20000)
# ImageNet weights: torchvision's ResNet-101 converted by
# tools/model_converters/torchvision_resnet.py (README, "FADA").
load_from = 'checkpoints/resnet101_torchvision.pth'
