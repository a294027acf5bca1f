# DeepLab-V2 schedule of MaxSquare (METHODS.md section 2): SGD lr 2.5e-4,
# momentum 0.9, weight decay 5e-4, classifier heads at 10x lr, poly decay
# (power 0.9) stepped every iteration. Source pre-training: poly horizon
# 200k iterations, stopped at 80k.
# Faithful to the release's optimiser: its parameter-group builder lists
# most backbone tensors several times in its one SGD group and PyTorch 1.0
# applied one full update per listing (stem conv once, the 12 downsample
# tensors 4 times, every other backbone tensor 3 times, heads once at 10x;
# NestedListingOptimWrapperConstructor + RepeatedListingSGD, README
# "MaxSquare"). The plain optimiser (each tensor once per step) is the
# named option `plain_sgd_optim_wrapper`:
#   optim_wrapper = dict(_delete_=True, **_base_.plain_sgd_optim_wrapper)
optimizer = dict(
    type='RepeatedListingSGD', lr=2.5e-4, momentum=0.9, weight_decay=5e-4)
head_lr_mult = dict(
    custom_keys=dict(
        decode_head=dict(lr_mult=10.0), auxiliary_head=dict(lr_mult=10.0)))
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='NestedListingOptimWrapperConstructor',
    nested_listing_modules=['backbone'],
    optimizer=optimizer,
    clip_grad=None,
    paramwise_cfg=head_lr_mult)
plain_sgd_optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(optimizer, type='SGD'),
    clip_grad=None,
    paramwise_cfg=head_lr_mult)
poly_horizon = 200000
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
train_cfg = dict(type='IterBasedTrainLoop', max_iters=80000, val_interval=4000)
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
