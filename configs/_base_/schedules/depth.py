# The depth method's schedule (METHODS.md sec. 5, 6.2): the segmentation
# network (backbone, classifier, depth and density heads) with SGD lr
# 2.5e-4 in one group (no 10x heads), momentum 0.9, weight decay 5e-4; the
# discriminator with its own Adam lr 1e-3 (SYNTHIA -> Mapillary: 1e-4),
# betas (0.9, 0.99). Both poly 0.9 over 90k iterations, stepped every
# iteration. One backward pass steps both optimisers (MultiOptimWrapper),
# which equals the released order (G source, G target with D frozen, D,
# then both steps). The released seed 1234 is set by the task configs
# (default_runtime.py owns `randomness`).
# Assumption: adaptation runs the whole 90k horizon (the release picks the
# best checkpoint on the target val set; the default here is the final one).
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    segmentor=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=2.5e-4, momentum=0.9,
                       weight_decay=5e-4),
        clip_grad=None),
    discriminator=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.99)),
        clip_grad=None,
        modules=['uda_terms.0.discriminator']))
poly_horizon = 90000
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=0,
        # the release's lr0 (1 - i / horizon)^0.9; PolyLR with end=E decays
        # as (1 - i / (E - 1))^0.9
        end=poly_horizon + 1,
        by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=poly_horizon, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=2000,
        max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
