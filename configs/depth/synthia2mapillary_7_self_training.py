# Depth distribution, self-training stage, SYNTHIA -> Mapillary Vistas, 7
# categories at 1280x760. Paper (seed 004) Table 3, full resolution: 70.4
# mIoU (after this stage). One round of CE on the spatial-prior
# pseudo-labels of 9,000 Vistas training images (the released count: the
# first 9,000 of the sorted list, an assumption), fitted and padded into
# 1280x760 as in adaptation, 30k iterations, from
# configs/depth/synthia2mapillary_7.py's model.
#   python tools/generate_pseudo_labels.py \
#       configs/depth/synthia2mapillary_7.py \
#       work_dirs/depth/synthia2mapillary_7/iter_90000.pth \
#       --out data/mapillary/pseudo_labels/depth_synthia2mapillary_7 \
#       --cfg-options train_dataloader.dataset.target.indices=9000
_base_ = [
    './synthia2mapillary_7.py', '../_base_/schedules/depth_self_training.py'
]
model = _base_.self_training_model
optim_wrapper = _base_.self_training_optim_wrapper
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='MapillaryDataset',
        data_root=_base_.target_root,
        indices=9000,
        data_prefix=dict(
            img_path='training/images',
            seg_map_path='pseudo_labels/depth_synthia2mapillary_7'),
        seg_map_suffix=_base_.self_training_label_suffix,
        pipeline=[
            dict(type='CheckedLoadImageFromFile'),
            dict(type='CheckedLoadAnnotations'),
            dict(type='CheckSegMapSize'),
            dict(type='FitAndPad', scale=_base_.input_scale),
            dict(type='PackSegInputs'),
        ]))
train_cfg = dict(max_iters=30000)
load_from = 'work_dirs/depth/synthia2mapillary_7/iter_90000.pth'
