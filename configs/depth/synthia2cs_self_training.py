# Depth distribution, self-training stage, SYNTHIA -> Cityscapes, 16
# classes. Paper (seed 004) Table 1: 48.2 mIoU / 55.5 mIoU* (after this
# stage; configs/depth/synthia2cs.py is the adaptation before it).
# One round of CE on the spatial-prior pseudo-labels of the 2,975
# Cityscapes train images (no source data), 30k iterations of the 90k
# poly schedule, from the adapted model; input 1280x760 as in adaptation
# (images resized as its target, Pillow bicubic). The pseudo-labels are
# read at the input size as the tool writes them (no full-size round
# trip), as the release.
# Pseudo-labels (README, "Depth distribution"):
#   python tools/generate_pseudo_labels.py configs/depth/synthia2cs.py \
#       work_dirs/depth/synthia2cs/iter_90000.pth \
#       --out data/cityscapes/pseudo_labels/depth_synthia2cs
_base_ = [
    './synthia2cs.py', '../_base_/schedules/depth_self_training.py'
]
model = _base_.self_training_model
optim_wrapper = _base_.self_training_optim_wrapper
adaptation_target_pipeline = _base_.train_dataloader.dataset.target.pipeline
self_training_pipeline = (
    adaptation_target_pipeline[:-1] + _base_.self_training_label_loading +
    adaptation_target_pipeline[-1:])
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CityscapesUDADataset',
        data_root=_base_.target_root,
        num_classes=_base_.num_classes,
        data_prefix=dict(
            img_path='leftImg8bit/train',
            seg_map_path='pseudo_labels/depth_synthia2cs'),
        seg_map_suffix=_base_.self_training_label_suffix,
        pipeline=self_training_pipeline))
train_cfg = dict(max_iters=30000)
load_from = 'work_dirs/depth/synthia2cs/iter_90000.pth'
