# CAG-UDA's data (METHODS.md section 6.1), SYNTHIA -> Cityscapes (16
# classes; no released config: the GTA5 settings with SYNTHIA's base size
# 1280x760, an assumption): both domains resized to their base size
# (SYNTHIA 1280x760, Cityscapes 2048x1024), then
# random resize to width int(U(0.5, 1.5) x 2200), height int(w / aspect),
# random crop 896x512 (W x H), horizontal flip p = 0.5; every resize with
# Pillow, bilinear images and nearest labels, as the release
# (./cag_augmentation.py, with the previous mmcv path as an option). Batch
# 4 source + 4 target (per process: with N GPUs set
# train_dataloader.batch_size=4/N, the README says how). Evaluation on
# Cityscapes val at 2048x1024 input, single scale, full-resolution labels.
# The anchor loader: source images at the base size, no augmentation,
# batches of 4 (CategoryAnchorHook reads 2972 of them, ~11.9k images).
_base_ = [
    '../../_base_/datasets/synthia_to_cityscapes.py',
    './cag_augmentation.py'
]
source_base_size = (1280, 760)
target_base_size = (2048, 1024)
source_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations'),
    dict(type='CheckSegMapSize'),
    dict(
        type='Resize',
        scale=source_base_size,
        keep_ratio=False,
        **_base_.cag_resize),
] + _base_.cag_augmentation
target_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(
        type='Resize',
        scale=target_base_size,
        keep_ratio=False,
        **_base_.cag_resize),
] + _base_.cag_augmentation
anchor_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations'),
    dict(type='CheckSegMapSize'),
    dict(
        type='Resize',
        scale=source_base_size,
        keep_ratio=False,
        **_base_.cag_resize),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(
        type='Resize',
        scale=(2048, 1024),
        keep_ratio=False,
        **_base_.cag_resize),
    dict(type='CheckedLoadAnnotations'),
    dict(type='PackSegInputs'),
]
anchor_dataloader = dict(
    batch_size=4,
    num_workers=4,
    shuffle=True,
    seed=0,
    dataset=dict(_base_.source_train, pipeline=anchor_pipeline))
# 4 x floor(2975 / 4) batches of 4: 11,888 images.
anchor_batches = 2972
train_dataloader = dict(
    batch_size=4,
    dataset=dict(
        source=dict(pipeline=source_pipeline),
        target=dict(pipeline=target_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
