# Depth distribution, self-training stage, SYNTHIA -> Cityscapes, 7
# categories at 1280x760. Paper (seed 004) Table 2, full resolution: 72.6
# mIoU (after this stage). One round of CE on the spatial-prior
# pseudo-labels of the 2,975 Cityscapes train images, 10k iterations
# (released), from configs/depth/synthia2cs_7.py's model; images resized
# as its target (Pillow bicubic), pseudo-labels read at the input size as
# written (no full-size round trip), as the release.
#   python tools/generate_pseudo_labels.py configs/depth/synthia2cs_7.py \
#       work_dirs/depth/synthia2cs_7/iter_90000.pth \
#       --out data/cityscapes/pseudo_labels/depth_synthia2cs_7
_base_ = [
    './synthia2cs_7.py', '../_base_/schedules/depth_self_training.py'
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
            seg_map_path='pseudo_labels/depth_synthia2cs_7'),
        seg_map_suffix=_base_.self_training_label_suffix,
        pipeline=self_training_pipeline))
train_cfg = dict(max_iters=10000)
load_from = 'work_dirs/depth/synthia2cs_7/iter_90000.pth'
