# Demo of the CAG-UDA chain, step 2: stage 1 (configs/cag/gta2cs_stage1.py,
# 50.2 mIoU on the real data after 3 stages) from the demo warm-up's final
# model, shrunk by configs/demo/_cag_common.py (64-d anchor space). The demo
# data has 12 of the 19 classes, so the hook gives the missing classes zero
# anchors (missing_anchors='zero') instead of stopping; anchors come from
# every demo source image at the demo base size.
_base_ = ['../cag/gta2cs_stage1.py', './_cag_common.py']
demo_iters = 100
model = dict(
    _base_.demo_cag_model,
    uda_terms=[dict(_base_.model.uda_terms[0], feature_dim=64)])
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=_base_.demo_lr, momentum=0.9,
                   weight_decay=2e-4))
# the stages' poly stepped before the optimiser step, over the demo run
param_scheduler = [dict(_base_.param_scheduler[0], end=demo_iters + 1)]
train_cfg = dict(max_iters=demo_iters, val_interval=demo_iters)
default_hooks = _base_.demo_hooks
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    dataset=dict(
        source=dict(
            data_root=_base_.demo_data + '/gta5',
            pipeline=_base_.demo_source_pipeline),
        target=dict(
            data_root=_base_.demo_data + '/cityscapes',
            pipeline=_base_.demo_target_pipeline)))
val_dataloader = dict(
    num_workers=2,
    dataset=dict(
        data_root=_base_.demo_data + '/cityscapes',
        pipeline=_base_.demo_test_pipeline))
test_dataloader = val_dataloader
# The base's run-safety hooks, with the demo's anchor hook.
custom_hooks = [
    h for h in _base_.custom_hooks if h.type != 'CategoryAnchorHook'
] + [
    dict(
        type='CategoryAnchorHook',
        anchor_dataloader=dict(
            batch_size=2,
            num_workers=0,
            dataset=dict(
                _base_.source_train,
                data_root=_base_.demo_data + '/gta5',
                pipeline=_base_.demo_anchor_pipeline)),
        missing_anchors='zero')
]
load_from = 'work_dirs/demo/full/cag_warmup/iter_200.pth'
