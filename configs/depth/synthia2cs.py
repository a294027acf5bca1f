# Depth distribution, SYNTHIA RAND-CITYSCAPES -> Cityscapes, 16 classes
# (and the 13-class mIoU* alongside), DeepLab-V2 ResNet-101 (METHODS.md
# sec. 5, 6.2, 6.3). Paper (seed 004) Table 1: 48.2 mIoU / 55.5 mIoU* (the
# paper's final numbers include self-training: configs/depth/
# synthia2cs_self_training.py).
# Released constants: input 1280x760 for both domains and for testing
# (Cityscapes resized, aspect distorted; logits upsampled to the 2048x1024
# labels), lambda_bal src 0.01, lambda_dep 0.005, lambda_adv 0.05,
# lambda_bal tgt 0.05, D Adam 1e-3, G SGD 2.5e-4 one group, poly 0.9 over
# 90k, seed 1234, the released 16-class CE weights, K = 5 GMMs per class
# on the 161x96 grid.
# Released details (METHODS.md 6.4): D's loss BCE(D(m_s), 0) + BCE(D(m_t),
# 1) unhalved; depth/density head weights N(0, 0.01); Pillow bicubic
# image resizing (Pillow nearest labels; the depth map nearest at the
# labels' pixels: an assumption).
# Assumptions (METHODS.md silent): no flip or blur on either domain; the
# adaptation runs 90k iterations and the final checkpoint is reported.
# Chain (README, "Depth distribution"): fit the GMMs
# (tools/fit_depth_gmm.py data/synthia --num-classes 16 --grid-size 161 96
# --out work_dirs/depth/gmm_synthia16_161x96.json), train from the
# converted ImageNet DeepLab init, then pseudo-labels and self-training.
_base_ = [
    '../_base_/models/deeplabv2_r101_depth.py',
    '../_base_/datasets/synthia_to_cityscapes.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/depth.py',
]
num_classes = 16
input_scale = (1280, 760)
model = dict(
    decode_head=dict(num_classes=num_classes),
    uda_terms=[
        dict(
            _base_.depth_term,
            num_classes=num_classes,
            grid_size=(161, 96),
            gmm_file='work_dirs/depth/gmm_synthia16_161x96.json')
    ])
no_augmentation = ('RandomFlip', 'RandomGaussianBlur')
# Every sized step (Resize, ResizeWithDepth) at the input size.
depth_source_pipeline = [
    dict(t, scale=input_scale) if 'scale' in t else t
    for t in _base_.source_depth_pipeline if t.type not in no_augmentation
]
depth_target_pipeline = [
    dict(t, scale=input_scale) if 'scale' in t else t
    for t in _base_.target_pipeline if t.type not in no_augmentation
]
depth_test_pipeline = [
    dict(t, scale=input_scale) if 'scale' in t else t
    for t in _base_.test_pipeline
]
train_dataloader = dict(
    dataset=dict(
        source=dict(with_depth=True, pipeline=depth_source_pipeline),
        target=dict(pipeline=depth_target_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=depth_test_pipeline))
test_dataloader = val_dataloader
load_from = 'checkpoints/deeplabv2_imagenet.pth'
randomness = dict(seed=1234)  # released
# Spatial-prior pseudo-labels of this model (tools/generate_pseudo_labels.py;
# METHODS.md sec. 5, 6.3): confidence 0.9, then 8-connected regions below
# the released per-class thresholds (pixels at the input size) are ignored.
# thresholds='from-stats' with class_stats='data/synthia/class_stats.json'
# uses the formula 50 + 4950 (n_c - n_min) / (n_max - n_min) instead.
pseudo_label_refinement = dict(
    confidence=0.9, thresholds='synthia2cs-16', connectivity=8)
