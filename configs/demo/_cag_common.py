# Shared shrink of the CAG-UDA demo configs (configs/demo/cag_*.py), on top
# of configs/demo/_demo.py: only `demo_*` names, so it can be a second base
# next to a real config. The demo's small ResNet with a 64-channel
# DeepLab-V3+ head (64-d anchor space), plain BN (CPU), crops 224x128 after
# a random resize (width int(U(0.8, 1.2) x 320), height truncated) of the
# demo's base sizes, batch 2 + 2; every resize Pillow's (bilinear images,
# nearest labels) as in configs/cag/_base_/cag_augmentation.py.
_base_ = ['./_demo.py']
demo_resize = dict(backend='pillow', interpolation='bilinear')
demo_bn = dict(type='BN', requires_grad=True)
demo_cag_model = dict(
    backbone=dict(_base_.demo_model.backbone, norm_cfg=demo_bn),
    decode_head=dict(in_channels=(64, 512), channels=64, norm_cfg=demo_bn))
demo_augmentation = [
    dict(
        type='RandomWidthResize',
        width=320,
        ratio_range=(0.8, 1.2),
        **demo_resize),
    dict(type='RandomCrop', crop_size=(128, 224)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
demo_source_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations'),
    dict(type='CheckSegMapSize'),
    dict(
        type='Resize',
        scale=_base_.demo_source_scale,
        keep_ratio=False,
        **demo_resize)
] + demo_augmentation
demo_target_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(
        type='Resize',
        scale=_base_.demo_target_scale,
        keep_ratio=False,
        **demo_resize)
] + demo_augmentation
demo_anchor_pipeline = demo_source_pipeline[:4] + [
    dict(type='PackSegInputs')
]
demo_test_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(
        type='Resize',
        scale=_base_.demo_target_scale,
        keep_ratio=False,
        **demo_resize),
    dict(type='CheckedLoadAnnotations'),
    dict(type='PackSegInputs'),
]
