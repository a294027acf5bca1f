# Demo of configs/depth/synthia2cs_7.py (depth distribution, SYNTHIA ->
# Cityscapes 7 classes, 72.6 mIoU on the real data): the same config
# (frozen-affine BN DeepLab-V2, depth and density heads, GMM density
# targets, entropy x density discriminator, SGD + Adam in one backward),
# shrunk by configs/demo/_demo.py, on the generated SYNTHIA-like source
# with depth maps (tools/generate_demo_data.py --num-synthia) and the demo
# Cityscapes. Both domains and the test input at 320x192 (one size, as the
# release's 1280x760 for both: the GMM grid, 41x25, is shared). Random
# initialisation: it checks the mechanics, not the accuracy.
# Chain (tools/demo.sh): fit the GMMs (tools/fit_depth_gmm.py
# data/demo/synthia --num-classes 7 --grid-size 41 25 --out
# data/demo/synthia/gmm_7_41x25.json), train this, pseudo-labels,
# configs/demo/depth_self_training.py, test.
_base_ = ['../depth/synthia2cs_7.py', './_demo.py']
demo_iters = 300
depth_scale = (320, 192)
depth_grid = (41, 25)
load_from = None
model = dict(
    _base_.demo_model,
    uda_terms=[
        dict(
            _base_.model.uda_terms[0],
            in_channels=512,
            grid_size=depth_grid,
            gmm_file=_base_.demo_data + '/synthia/gmm_7_41x25.json')
    ])
optim_wrapper = dict(segmentor=dict(optimizer=dict(lr=_base_.demo_lr)))
param_scheduler = [
    dict(
        type='PolyLR',
        power=0.9,
        eta_min=0.0,
        begin=0,
        end=demo_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=demo_iters, val_interval=demo_iters)
default_hooks = _base_.demo_hooks
train_dataloader = dict(
    num_workers=2,
    dataset=dict(
        source=dict(
            data_root=_base_.demo_data + '/synthia',
            pipeline=[
                dict(t, scale=depth_scale) if 'scale' in t else t
                for t in _base_.source_pipeline
            ]),
        target=dict(
            data_root=_base_.demo_data + '/cityscapes',
            pipeline=[
                dict(t, scale=depth_scale) if 'scale' in t else t
                for t in _base_.target_pipeline
            ])))
val_dataloader = dict(
    num_workers=2,
    dataset=dict(
        data_root=_base_.demo_data + '/cityscapes',
        pipeline=[
            dict(t, scale=depth_scale) if 'scale' in t else t
            for t in _base_.depth_test_pipeline
        ]))
test_dataloader = val_dataloader
# The released 7-class thresholds are pixels at 1280x760; at 320x192 the
# demo scales them by the pixel ratio (320 * 192) / (1280 * 760).
pseudo_label_refinement = dict(
    confidence=0.9, thresholds=[63, 49, 6, 20, 15, 11, 11], connectivity=8)
