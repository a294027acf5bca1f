# GTA5 (labelled source) -> Cityscapes (unlabelled target), 19 classes.
# Prepare with tools/dataset_converters/{gta5,cityscapes}.py (README).
# Training resizes (no crop): GTA5 to 1280x720, Cityscapes to 1024x512;
# both domains get a horizontal flip and a Gaussian blur (p = 0.5, radius
# ~ U(0, 1)), as MaxSquare (METHODS.md section 2). Evaluation: Cityscapes
# val at 1024x512 input, labels at full resolution (2048x1024).
source_root = 'data/gta5'
target_root = 'data/cityscapes'
source_scale = (1280, 720)
target_scale = (1024, 512)
test_scale = (1024, 512)

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
    # Loaded after Resize: labels stay at full resolution (UDAIoUMetric
    # names the file if a label's size differs from its image's).
    dict(type='CheckedLoadAnnotations'),
    dict(type='PackSegInputs'),
]

source_train = dict(
    type='GTA5Dataset',
    data_root=source_root,
    data_prefix=dict(img_path='images', seg_map_path='labels'),
    pipeline=source_pipeline)
target_train = dict(
    type='CityscapesUDADataset',
    data_root=target_root,
    data_prefix=dict(
        img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
    require_labels=False,  # unlabelled target: labels are never read
    pipeline=target_pipeline)
target_val = dict(
    type='CityscapesUDADataset',
    data_root=target_root,
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
