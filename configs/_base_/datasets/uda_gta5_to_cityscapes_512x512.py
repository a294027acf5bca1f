# GTA5 (labelled source) -> Cityscapes (unlabelled target), 19 classes, as
# DAFormer / HRDA / MIC's 512x512 data pipeline (METHODS.md 7.3):
# - source: resize keeping the aspect ratio to fit 1280x720 (a 1914x1052
#   frame becomes 1280x704; cv2 bilinear image, nearest label), random
#   512x512 crop with MMSeg's cat_max_ratio=0.75 rule (up to 10 re-draws
#   until >= 2 non-ignore classes and the largest < 75 % of them; the 11th
#   window unchecked; README "DACS family"), horizontal flip p = 0.5;
# - target: resize to 1024x512, random 512x512 crop without the cat-ratio
#   rule (the release's fix of 2022-01-05, METHODS.md 7.9 #14), flip 0.5;
# - no photometric augmentation in the loader (the DACS term's strong
#   augmentation does it); normalisation happens in the data preprocessor.
#   The release's Pad to 512 never acts here (every resized frame is at
#   least 512 on both sides); if it did, the data preprocessor pads after
#   normalisation (image 0 = the mean colour, label 255) as the release's
#   Pad after Normalize.
# - loader: batch 2 (+ 2 target), 4 workers; all 24,966 GTA5 frames.
# - evaluation: Cityscapes val resized to 1024x512 (keep ratio, cv2
#   bilinear), whole image, labels at full resolution.
# Without RCS the source index is shuffled and the target drawn uniformly
# (UDADataset: uniformly random pairs, length max(|S|, |T|)); add
# configs/_base_/uda/rcs.py for rare-class sampling.
_base_ = ['./gta5_to_cityscapes.py']
crop_size = (512, 512)
source_scale = (1280, 720)
target_scale = (1024, 512)
test_scale = (1024, 512)

source_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations'),
    dict(type='CheckSegMapSize'),
    dict(type='Resize', scale=source_scale, keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
# The target's labels are never loaded in training.
target_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=target_scale, keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=test_scale, keep_ratio=True),
    # Loaded after Resize: labels stay at full resolution.
    dict(type='CheckedLoadAnnotations'),
    dict(type='PackSegInputs'),
]
source_train = dict(_base_.source_train, pipeline=source_pipeline)
target_train = dict(_base_.target_train, pipeline=target_pipeline)
target_val = dict(_base_.target_val, pipeline=test_pipeline)
train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        source=dict(pipeline=source_pipeline),
        target=dict(pipeline=target_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
