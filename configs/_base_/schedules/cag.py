# CAG-UDA's schedule (METHODS.md sections 6.1 and 6.4): SGD on all
# parameters in one group (no 10x head), lr 1e-4, momentum 0.9, weight
# decay 2e-4, poly decay (power 0.9) over 90k iterations stepped every
# iteration *before* the optimiser step, as the release does: iteration k
# (from 0) uses 1e-4 (1 - (k + 1) / 90000)^0.9, the first already
# 1e-4 (1 - 1 / 90000)^0.9 (PrestepPolyLR). Option, MMEngine's order
# (iteration k uses (1 - k / 90000)^0.9): param_scheduler.0.type=PolyLR.
# A stage ends after 84 target epochs of batch 4: 84 x floor(2975 / 4) =
# 62,412 iterations (METHODS.md: "~62.4k"; the exact count is our reading).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-4, momentum=0.9, weight_decay=2e-4),
    clip_grad=None)
poly_horizon = 90000
param_scheduler = [
    dict(
        type='PrestepPolyLR',
        eta_min=0.0,
        power=0.9,
        begin=0,
        # end = horizon + 1 as for PolyLR (which decays as (1 - i / (E - 1))
        # ^0.9 at iteration i); PrestepPolyLR is one step ahead of it
        end=poly_horizon + 1,
        by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=62412, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=2000,
        max_keep_ckpts=3, save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
