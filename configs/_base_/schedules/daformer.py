# DAFormer's optimiser and schedule (METHODS.md sec. 7.5), shared by the
# DAFormer-framework configs: AdamW lr 6e-5, betas (0.9, 0.999), weight
# decay 0.01 (decoupled), eps 1e-8; parameters whose name contains 'head'
# (the whole decoder) at 10x lr, those containing 'norm' (MiT's
# LayerNorms; nothing in a ResNet) without decay; mmengine's custom_keys
# rule is the release's (longest key first, first match wins). MMSeg's MiT
# names its stage-end LayerNorms backbone.layers.<i>.2 (the release:
# norm1..4), so they are listed by name to get decay 0 as well (no ResNet
# parameter contains 'backbone.layers.'; tests/test_release_poly_horizons.py
# checks every MiT LayerNorm). 40k
# iterations; lr_i = lr0 (1 - i / 40000)^1.0, during the first 1500
# iterations times 1 - (1 - i / 1500)(1 - 1e-6) (a linear warm-up from
# ratio 1e-6 that scales the decayed lr): lr_0 = 6.0e-11, lr_49 = 1.958e-6,
# lr_99 = 3.950e-6, lr_3999 = 5.400e-5 (tests/test_release_poly_horizons.py).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=6e-5, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=0.01),
    clip_grad=None,
    paramwise_cfg=dict(
        custom_keys={
            'head': dict(lr_mult=10.0),
            'norm': dict(decay_mult=0.0),
            'backbone.layers.0.2.': dict(decay_mult=0.0),
            'backbone.layers.1.2.': dict(decay_mult=0.0),
            'backbone.layers.2.2.': dict(decay_mult=0.0),
            'backbone.layers.3.2.': dict(decay_mult=0.0),
        }))
daformer_iters = 40000
warmup_iters = 1500
# mmengine's LinearLR and PolyLR with end=E reach their final factor at
# i = E - 1, hence the + 1.
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6,
        by_epoch=False,
        begin=0,
        end=warmup_iters + 1),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=1.0,
        begin=0,
        end=daformer_iters + 1,
        by_epoch=False),
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=daformer_iters, val_interval=4000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='SafeCheckpointHook', by_epoch=False, interval=4000,
        max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
