# The original DACS's data (METHODS.md sec. 7.10), SYNTHIA -> Cityscapes
# (16 classes): SYNTHIA at its own 1280x760 size (an assumption: the
# released DACS code trains GTA5 only; the Resize is a no-op for SYNTHIA's
# frames), Cityscapes halved to 1024x512 (Pillow bilinear, its
# RandomCrop_city), random 512x512 crops (no class-ratio rule), no random
# scale, no flip, no blur in the loader (the strong augmentation is the
# DACS term's). Batch 2 + 2.
# Evaluation as the dataset base (1024x512 input, full-resolution labels).
_base_ = ['../../_base_/datasets/synthia_to_cityscapes.py']
crop_size = (512, 512)
dacs_source_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations'),
    dict(type='CheckSegMapSize'),
    dict(type='Resize', scale=_base_.source_scale, keep_ratio=False,
         **_base_.pil_resize),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
dacs_target_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=_base_.target_scale, keep_ratio=False,
         backend='pillow', interpolation='bilinear'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        source=dict(_base_.source_train, pipeline=dacs_source_pipeline),
        target=dict(_base_.target_train, pipeline=dacs_target_pipeline)))
