# Depth distribution, SYNTHIA RAND-CITYSCAPES -> Cityscapes, 7 categories
# at 1280x760 (METHODS.md sec. 5, 6.2, 6.3). Paper (seed 004) Table 2,
# full resolution: 72.6 mIoU (with self-training:
# configs/depth/synthia2cs_7_self_training.py, 10k iterations).
# Released constants: input 1280x760 for training and testing (Cityscapes
# resized; logits upsampled to the 2048x1024 labels), lambda_bal src 0.01,
# lambda_dep 0.005, lambda_adv 0.05, lambda_bal tgt 0.05, D Adam 1e-3,
# the released 7-class CE weights, the release's Cityscapes -> 7 table
# (parking, rail track, guard rail, bridge, tunnel, polegroup ignored),
# GMMs on the 161x96 grid; D loss, head init and Pillow resizing as
# configs/depth/synthia2cs.py. Assumptions as configs/depth/synthia2cs.py.
_base_ = [
    '../_base_/models/deeplabv2_r101_depth.py',
    '../_base_/datasets/synthia_to_cityscapes_7.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/depth.py',
]
num_classes = 7
input_scale = (1280, 760)
grid_size = (161, 96)
model = dict(
    decode_head=dict(
        num_classes=num_classes,
        loss_decode=dict(class_weight='released-7', num_classes=num_classes)),
    uda_terms=[
        dict(
            _base_.depth_term,
            num_classes=num_classes,
            grid_size=grid_size,
            gmm_file='work_dirs/depth/gmm_synthia7_161x96.json')
    ])
depth_test_pipeline = [
    dict(t, scale=input_scale) if 'scale' in t else t
    for t in _base_.test_pipeline
]
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
    confidence=0.9, thresholds='synthia2cs-7', connectivity=8)
