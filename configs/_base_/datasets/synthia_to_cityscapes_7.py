# SYNTHIA RAND-CITYSCAPES (labelled source) -> Cityscapes (unlabelled
# target) in the 7 categories of the depth method (seed 004): flat,
# construction, object, nature, sky, human, vehicle.
# Prepare with tools/dataset_converters/{synthia,cityscapes}.py
# (README, "Preparing datasets"); both write the 7-class labels
# (*_labelTrainIds7.png, *_gtFine_labelTrainIds7.png) used here.
# Training resizes (no crop): SYNTHIA to 1280x760 (its own size) and
# Cityscapes to 1280x760 (METHODS.md section 5); no flip or blur.
# The source delivers the depth target gt_depth_map = 65536 / (raw + 1)
# (LoadSynthiaDepth); source_train_plain is the same without depth.
# Evaluation, two resolutions as the paper's Table 2:
# - full resolution (default): 1024x512 input, labels at 2048x1024;
# - low resolution: 640x320 input and labels nearest-resized to 640x320;
#   in a child config:
#     val_dataloader = dict(
#         dataset=dict(pipeline=_base_.low_res_test_pipeline))
#     test_dataloader = val_dataloader
#     val_evaluator = _base_.low_res_evaluator
#     test_evaluator = val_evaluator
source_root = 'data/synthia'
target_root = 'data/cityscapes'
num_classes = 7
source_scale = (1280, 760)
target_scale = (1280, 760)
test_scale = (1024, 512)
low_res_scale = (640, 320)

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
# The target's labels are never loaded in training.
target_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=target_scale, keep_ratio=False, **pil_resize),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=test_scale, keep_ratio=False, **pil_resize),
    # Loaded after Resize: labels stay at full resolution.
    dict(type='CheckedLoadAnnotations'),
    dict(type='PackSegInputs'),
]
low_res_test_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=low_res_scale, keep_ratio=False, **pil_resize),
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
    type='CityscapesUDADataset',
    data_root=target_root,
    num_classes=num_classes,
    data_prefix=dict(
        img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
    require_labels=False,  # unlabelled target: labels are never read
    pipeline=target_pipeline)
target_val = dict(
    type='CityscapesUDADataset',
    data_root=target_root,
    num_classes=num_classes,
    data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
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
