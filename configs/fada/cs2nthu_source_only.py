# Source-only stage of FADA on Cityscapes -> NTHU (13 classes): the FADA
# Paper number: none reported for this stage in the seed material.
# network from ImageNet weights trained on Cityscapes train alone (the
# validation during training uses Rome's test images); initialises
# configs/fada/cs2nthu_{rome,rio,tokyo,taipei}.py. configs/fada/
# cs2nthu_rome.py without the adversarial term and the temperature; stops
# at 20k iterations (an assumption, see configs/fada/gta2cs_source_only.py).
_base_ = ['./cs2nthu_rome.py']
model = dict(logit_temperature=1.0, uda_terms=[])
optim_wrapper = dict(_delete_=True, **_base_.optim_wrapper.segmentor)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        **dict(_base_.source_train, pipeline=_base_.fada_source_pipeline)))
train_cfg = dict(max_iters=20000)
load_from = 'checkpoints/resnet101_torchvision.pth'  # README, "FADA"
