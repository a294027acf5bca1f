# FADA's adaptation schedule (METHODS.md section 3): the segmentation
# network with SGD lr 2.5e-4 (classifier 10x), momentum 0.9, weight decay
# 5e-4; the discriminator with its own Adam lr 1e-4, betas (0.9, 0.99), no
# weight decay. Both lrs decay with poly 0.9 over 62.5k iterations, stepped
# every iteration; training stops at 40k. One backward pass per iteration
# steps both optimisers (MultiOptimWrapper; DESIGN.md); both optimisers'
# states are saved in the checkpoint (optimizer.segmentor,
# optimizer.discriminator) and restored by --resume.
# `--amp` switches both wrappers to AmpOptimWrapper sharing one loss scaler.
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    segmentor=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=2.5e-4, momentum=0.9,
                       weight_decay=5e-4),
        clip_grad=None,
        paramwise_cfg=dict(
            custom_keys=dict(
                decode_head=dict(lr_mult=10.0),
                auxiliary_head=dict(lr_mult=10.0)))),
    discriminator=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.99)),
        clip_grad=None,
        # The FADA term is model.uda_terms[0].
        modules=['uda_terms.0.discriminator']))
poly_horizon = 62500
# A list applies to every optimiser of the MultiOptimWrapper (mmengine's
# Runner.build_param_scheduler); both decay alike.
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
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='SafeCheckpointHook', by_epoch=False, interval=2000,
        max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
