# Depth distribution, self-training stage, SYNTHIA -> Mapillary Vistas, 7
# categories at 1280x760. Paper (seed 004) Table 3, full resolution: 70.4
# mIoU (after this stage). One round of CE on the spatial-prior
# pseudo-labels of the release's 9,000 Vistas self-training images: the
# release's list (mapillary_list/selftrain.txt, shipped as
# image_list='depth-selftrain'; MapillaryDataset.RELEASED_IMAGE_LISTS) in
# that list's order, indices=9000 on it (not the sorted file names). Fitted
# and padded into 1280x760 as in adaptation (FitAndPad, Pillow bicubic);
# the pseudo-labels are read as the tool writes them, the whole 1280x760
# input frame (padding included, as the release) with no resize; 30k
# iterations, from configs/depth/synthia2mapillary_7.py's model.
#   python tools/generate_pseudo_labels.py \
#       configs/depth/synthia2mapillary_7.py \
#       work_dirs/depth/synthia2mapillary_7/iter_90000.pth \
#       --out data/mapillary/pseudo_labels/depth_synthia2mapillary_7 \
#       --cfg-options \
#       train_dataloader.dataset.target.image_list=depth-selftrain
_base_ = [
    './synthia2mapillary_7.py', '../_base_/schedules/depth_self_training.py'
]
model = _base_.self_training_model
optim_wrapper = _base_.self_training_optim_wrapper
self_training_pipeline = (
    _base_.fit_target_pipeline[:-1] + _base_.self_training_label_loading +
    _base_.fit_target_pipeline[-1:])
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='MapillaryDataset',
        data_root=_base_.target_root,
        image_list='depth-selftrain',
        indices=9000,
        data_prefix=dict(
            img_path='training/images',
            seg_map_path='pseudo_labels/depth_synthia2mapillary_7'),
        seg_map_suffix=_base_.self_training_label_suffix,
        pipeline=self_training_pipeline))
train_cfg = dict(max_iters=30000)
load_from = 'work_dirs/depth/synthia2mapillary_7/iter_90000.pth'
