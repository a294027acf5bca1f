# Depth distribution, SYNTHIA RAND-CITYSCAPES -> Mapillary Vistas, 7
# categories at 1280x760 (METHODS.md sec. 5, 6.2, 6.3). Paper (seed 004)
# Table 3, full resolution: 70.4 mIoU (with self-training, 30k iterations
# on 9,000 target images).
# Released constants: lambda_bal src 0.005, lambda_dep 1e-4, lambda_adv
# 0.001, lambda_bal tgt 0.001, D Adam 1e-4; the release's Vistas -> 7
# table (curb = construction, terrain = flat, pothole = object, catch basin
# and manhole ignored); Vistas images fitted into 1280x760 with the aspect
# kept and padded bottom/right (FitAndPad; labels likewise, padding =
# ignore), for training and testing, and evaluated at that size; image
# padding value 0 before mean subtraction (the release pads with 0).
# Released details (METHODS.md 6.4): the source CE is unweighted (the class
# weights are the Cityscapes tasks'); the fitted side is truncated
# (int(H * 1280 / W) for a wide image, int(W * 760 / H) otherwise); images
# resized with Pillow bicubic, labels Pillow nearest, in FitAndPad and for
# SYNTHIA; D's loss unhalved and the head init as configs/depth/synthia2cs.py.
_base_ = [
    '../_base_/models/deeplabv2_r101_depth.py',
    '../_base_/datasets/synthia_to_mapillary_7.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/depth.py',
]
num_classes = 7
input_scale = (1280, 760)
grid_size = (161, 96)
model = dict(
    decode_head=dict(
        num_classes=num_classes,
        loss_decode=dict(_base_.unweighted_ce, _delete_=True)),
    uda_terms=[
        dict(
            _base_.depth_term,
            num_classes=num_classes,
            grid_size=grid_size,
            source_balance_weight=0.005,
            depth_weight=1e-4,
            adv_weight=0.001,
            target_balance_weight=0.001,
            gmm_file='work_dirs/depth/gmm_synthia7_161x96.json')
    ])
optim_wrapper = dict(discriminator=dict(optimizer=dict(lr=1e-4)))
# PackSegInputs' default meta keys plus FitAndPad's, which
# tools/generate_pseudo_labels.py needs to undo the fit.
fit_meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                 'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                 'reduce_zero_label', 'fitted_shape', 'source_shape')
fit_target_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='FitAndPad', scale=input_scale),
    dict(type='PackSegInputs', meta_keys=fit_meta_keys),
]
fit_test_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations'),
    dict(type='FitAndPad', scale=input_scale),
    dict(type='PackSegInputs', meta_keys=fit_meta_keys),
]
train_dataloader = dict(
    dataset=dict(
        source=dict(pipeline=[
            dict(t, scale=input_scale) if 'scale' in t else t
            for t in _base_.source_pipeline
        ]),
        target=dict(pipeline=fit_target_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=fit_test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(label_resolution='inference')
test_evaluator = val_evaluator
load_from = 'checkpoints/deeplabv2_imagenet.pth'
randomness = dict(seed=1234)  # released
# Spatial-prior pseudo-labels of this model (tools/generate_pseudo_labels.py;
# METHODS.md sec. 5, 6.3): confidence 0.9, then 8-connected regions below
# the released per-class thresholds (pixels at the input size) are ignored.
# thresholds='from-stats' with class_stats='data/synthia/class_stats.json'
# uses the formula 50 + 4950 (n_c - n_min) / (n_max - n_min) instead.
pseudo_label_refinement = dict(
    confidence=0.9, thresholds='synthia2mapillary-7', connectivity=8)
