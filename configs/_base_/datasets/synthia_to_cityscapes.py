# SYNTHIA RAND-CITYSCAPES (labelled source) -> Cityscapes (unlabelled
# target), the 16 classes SYNTHIA shares with Cityscapes.
# Prepare with tools/dataset_converters/{synthia,cityscapes}.py
# (README, "Preparing datasets"); both write the 16-class labels
# (*_labelTrainIds16.png, *_gtFine_labelTrainIds16.png) used here.
# Training resizes (no crop): SYNTHIA to 1280x760 (its own size),
# Cityscapes to 1024x512; both domains get a horizontal flip and a Gaussian
# blur (p = 0.5, radius ~ U(0, 1)), as MaxSquare (METHODS.md section 2);
# a method that does not use them filters them out, as configs/fada does.
# Evaluation: Cityscapes val at 1024x512 input, labels at full resolution;
# the metric prints the 16-class mIoU and the 13-class mIoU* (without wall,
# fence, pole), as every SYNTHIA paper reports both.
# Depth (depth method): source_train_depth also delivers gt_depth_map =
# 65536 / (raw + 1) (LoadSynthiaDepth); use it as the UDADataset source.
source_root = 'data/synthia'
target_root = 'data/cityscapes'
num_classes = 16
source_scale = (1280, 760)
target_scale = (1024, 512)
test_scale = (1024, 512)
# The 13 classes of mIoU*.
miou13_classes = [
    'road', 'sidewalk', 'building', 'traffic light', 'traffic sign',
    'vegetation', 'sky', 'person', 'rider', 'car', 'bus', 'motorcycle',
    'bicycle'
]

# Image resizing as the released loaders do it: Pillow bicubic (antialiased
# when shrinking) for images, Pillow nearest for labels (mmcv's Resize with
# backend='pillow'). The faster cv2 path (bilinear without antialiasing,
# cv2 nearest for labels; mmcv's default) is the named option `cv2_resize`:
#   [dict(t, **cv2_resize) if t.type == 'Resize' else t for t in pipeline]
# tools/benchmark_data.py reports both paths' speed and pixel difference.
pil_resize = dict(backend='pillow', interpolation='bicubic')
cv2_resize = dict(backend='cv2', interpolation='bilinear')

source_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations'),
    dict(type='CheckSegMapSize'),
    dict(type='Resize', scale=source_scale, keep_ratio=False, **pil_resize),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomGaussianBlur', prob=0.5, max_radius=1.0),
    dict(type='PackSegInputs'),
]
# Depth is loaded before any geometric step: the resize and RandomFlip
# transform it with the label (it is in seg_fields). MMSeg's Resize takes
# uint8 maps only on the Pillow path, so this (depth-method) pipeline uses
# ResizeWithDepth: the same Pillow bicubic image and Pillow nearest label,
# and the float depth map Pillow nearest at the label's pixels (the
# release's depth resize is not described: an assumption).
source_depth_pipeline = (
    source_pipeline[:3] + [dict(type='LoadSynthiaDepth')] + [
        dict(t, type='ResizeWithDepth') if t['type'] == 'Resize' else t
        for t in source_pipeline[3:]
    ])
# The target's labels are never loaded in training.
target_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=target_scale, keep_ratio=False, **pil_resize),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomGaussianBlur', prob=0.5, max_radius=1.0),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=test_scale, keep_ratio=False, **pil_resize),
    # Loaded after Resize: labels stay at full resolution.
    dict(type='CheckedLoadAnnotations'),
    dict(type='PackSegInputs'),
]

source_train = dict(
    type='SynthiaDataset',
    data_root=source_root,
    num_classes=num_classes,
    data_prefix=dict(img_path='RGB', seg_map_path='GT/LABELS'),
    pipeline=source_pipeline)
source_train_depth = dict(
    source_train, with_depth=True, pipeline=source_depth_pipeline)
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
val_evaluator = dict(
    type='UDAIoUMetric',
    label_resolution='full',
    class_subsets={'mIoU*': miou13_classes})
test_evaluator = val_evaluator
