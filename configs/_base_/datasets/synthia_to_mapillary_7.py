# SYNTHIA RAND-CITYSCAPES (labelled source) -> Mapillary Vistas
# (unlabelled target) in the 7 categories of the depth method (seed 004).
# Prepare with tools/dataset_converters/{synthia,mapillary}.py
# (README, "Preparing datasets"): SYNTHIA's *_labelTrainIds7.png and the
# Vistas v1.2 validation labels grouped into 7 categories
# (*_labelTrainIds7.png; the grouping is an assumption documented in
# class_tables.MAPILLARY_SEVEN_GROUPS).
# Target: the Vistas training images, unlabelled; evaluation: the
# validation images (labels only exist for the evaluation here).
# Vistas images have varying sizes and aspect ratios (mostly 4:3), so
# unlike Cityscapes they are resized keeping the aspect ratio (assumption,
# the paper does not say): training to fit 1280x760, evaluation to fit
# 1024x768, labels at full resolution (predictions upsampled to them).
# Low resolution: low_res_test_pipeline fits 640x480 and scores labels
# nearest-resized to the input size (low_res_evaluator).
source_root = 'data/synthia'
target_root = 'data/mapillary'
num_classes = 7
source_scale = (1280, 760)
target_scale = (1280, 760)
test_scale = (1024, 768)
low_res_scale = (640, 480)

# Resizing as the released loaders: Pillow bicubic (antialiased when
# shrinking) for images, Pillow nearest for labels and the depth map
# (ResizeWithDepth: MMSeg's Resize whose Pillow path also takes the float
# depth map, sampled at the label's pixels). The cv2 path (bilinear, no
# antialiasing) is the named option `cv2_resize`:
#   [dict(t, **cv2_resize) if 'backend' in t else t for t in pipeline]
pil_resize = dict(backend='pillow', interpolation='bicubic')
cv2_resize = dict(backend='cv2', interpolation='bilinear')

source_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations'),
    dict(type='CheckSegMapSize'),
    dict(type='LoadSynthiaDepth'),
    dict(
        type='ResizeWithDepth',
        scale=source_scale,
        keep_ratio=False,
        **pil_resize),
    dict(type='PackSegInputs'),
]
source_plain_pipeline = [
    t for t in source_pipeline if t['type'] != 'LoadSynthiaDepth'
]
target_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=target_scale, keep_ratio=True, **pil_resize),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=test_scale, keep_ratio=True, **pil_resize),
    dict(type='CheckedLoadAnnotations'),
    dict(type='PackSegInputs'),
]
low_res_test_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=low_res_scale, keep_ratio=True, **pil_resize),
    dict(type='CheckedLoadAnnotations'),
    dict(type='LabelsAtInferenceSize'),
    dict(type='PackSegInputs'),
]

source_train = dict(
    type='SynthiaDataset',
    data_root=source_root,
    num_classes=num_classes,
    with_depth=True,
    data_prefix=dict(img_path='RGB', seg_map_path='GT/LABELS'),
    pipeline=source_pipeline)
source_train_plain = dict(
    source_train, with_depth=False, pipeline=source_plain_pipeline)
target_train = dict(
    type='MapillaryDataset',
    data_root=target_root,
    data_prefix=dict(img_path='training/images'),  # no labels
    pipeline=target_pipeline)
target_val = dict(
    type='MapillaryDataset',
    data_root=target_root,
    data_prefix=dict(
        img_path='validation/images', seg_map_path='validation/labels'),
    pipeline=test_pipeline)

# Loader speed (README "Benchmarks"): workers stay alive between epochs and
# validations, batches land in pinned memory (asynchronous copies to the GPU),
# and labels travel as uint8 (int64 again in the data preprocessor).
train_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    collate_fn=dict(type='compact_label_collate'),
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='UDADataset', source=source_train, target=target_train))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    collate_fn=dict(type='compact_label_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=target_val)
test_dataloader = val_dataloader
val_evaluator = dict(type='UDAIoUMetric', label_resolution='full')
test_evaluator = val_evaluator
low_res_evaluator = dict(type='UDAIoUMetric', label_resolution='inference')
