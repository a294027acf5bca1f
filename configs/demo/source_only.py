# Demo of configs/source_only/gta2cs.py (MaxSquare paper's source-only
# baseline, 36.9 mIoU on the real data): same config, shrunk by
# configs/demo/_demo.py to minutes on 2 CPU cores on synthetic data.
_base_ = ['../source_only/gta2cs.py', './_demo.py']
demo_iters = 600
model = _base_.demo_model
optim_wrapper = dict(optimizer=dict(lr=_base_.demo_lr))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0,
                        end=demo_iters, by_epoch=False)]
train_cfg = dict(max_iters=demo_iters, val_interval=demo_iters)
default_hooks = _base_.demo_hooks
train_dataloader = dict(
    num_workers=2,
    dataset=dict(
        data_root=_base_.demo_data + '/gta5',
        split=None,  # the synthetic data has no official split file
        pipeline=[
            dict(t, scale=_base_.demo_source_scale)
            if t.type == 'Resize' else t for t in _base_.source_pipeline
        ]))
val_dataloader = dict(
    num_workers=2,
    dataset=dict(
        data_root=_base_.demo_data + '/cityscapes',
        pipeline=[
            dict(t, scale=_base_.demo_target_scale)
            if t.type == 'Resize' else t for t in _base_.test_pipeline
        ]))
test_dataloader = val_dataloader
