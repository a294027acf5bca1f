# Cityscapes (labelled source) -> NTHU cross-city (unlabelled target), the
# 13 classes shared by the two (METHODS.md section 0), one city per run.
# Prepare with tools/dataset_converters/{cityscapes,nthu}.py
# (README, "Preparing datasets"): *_gtFine_labelTrainIds13.png and
# <city>/Labels/Test/*_labelTrainIds13.png.
# Training resizes (no crop) both domains to 1024x512 (both are 2048x1024)
# with a horizontal flip and a Gaussian blur (p = 0.5, radius ~ U(0, 1)),
# as MaxSquare. Evaluation: the city's 100 test images at 1024x512 input,
# labels at full resolution; the metric prints the 13-class mIoU of that
# city (one run per city; the evaluation dataset's metainfo['city'] names
# it).
#
# Choosing the city: this base is the Rome task. MMEngine evaluates a base
# before its child, so a variable changed in the child does not reach the
# dicts below; instead a per-city config sets the `city` argument of the
# two NTHU datasets (the data root stays the NTHU folder):
#   city = 'Tokyo'  # Rome, Rio, Tokyo or Taipei
#   train_dataloader = dict(dataset=dict(target=dict(city=city)))
#   val_dataloader = dict(dataset=dict(city=city))
#   test_dataloader = val_dataloader
# (with --cfg-options: train_dataloader.dataset.target.city=Tokyo
#  val_dataloader.dataset.city=Tokyo test_dataloader.dataset.city=Tokyo).
source_root = 'data/cityscapes'
target_root = 'data/nthu'
city = 'Rome'
num_classes = 13
source_scale = (1024, 512)
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
    # Loaded after Resize: labels stay at full resolution.
    dict(type='CheckedLoadAnnotations'),
    dict(type='PackSegInputs'),
]

source_train = dict(
    type='CityscapesUDADataset',
    data_root=source_root,
    num_classes=num_classes,
    data_prefix=dict(
        img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
    pipeline=source_pipeline)
target_train = dict(
    type='NTHUDataset',
    data_root=target_root,
    city=city,
    split='train',  # 3,200 unlabelled images
    pipeline=target_pipeline)
target_val = dict(
    type='NTHUDataset',
    data_root=target_root,
    city=city,
    split='test',  # 100 labelled images
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
