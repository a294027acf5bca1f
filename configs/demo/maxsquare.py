# Demo of configs/maxsquare/gta2cs.py (MaxSquare, 44.3 mIoU on the real
# data): same config, shrunk by configs/demo/_demo.py, starting from the demo
# source-only checkpoint (the two-step workflow of the real configs).
_base_ = ['../maxsquare/gta2cs.py', './_demo.py']
demo_iters = 300
load_from = 'work_dirs/demo/full/source_only/iter_600.pth'
model = _base_.demo_model
optim_wrapper = dict(optimizer=dict(lr=_base_.demo_lr))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0,
                        end=demo_iters, by_epoch=False)]
train_cfg = dict(max_iters=demo_iters, val_interval=demo_iters)
default_hooks = _base_.demo_hooks
train_dataloader = dict(
    num_workers=2,
    dataset=dict(
        source=dict(
            data_root=_base_.demo_data + '/gta5',
            split=None,  # the synthetic data has no official split file
            pipeline=[
                dict(t, scale=_base_.demo_source_scale)
                if t.type == 'Resize' else t for t in _base_.source_pipeline
            ]),
        target=dict(
            data_root=_base_.demo_data + '/cityscapes',
            pipeline=[
                dict(t, scale=_base_.demo_target_scale)
                if t.type == 'Resize' else t for t in _base_.target_pipeline
            ])))
val_dataloader = dict(
    num_workers=2,
    dataset=dict(
        data_root=_base_.demo_data + '/cityscapes',
        pipeline=[
            dict(t, scale=_base_.demo_target_scale)
            if t.type == 'Resize' else t for t in _base_.test_pipeline
        ]))
test_dataloader = val_dataloader
