# Demo of the CAG-UDA chain (configs/cag/gta2cs_*.py, 50.2 mIoU on the real
# data after warm-up + 3 stages), step 1: the output-space adversarial
# warm-up, shrunk by configs/demo/_cag_common.py, from random weights with
# lr 1e-2. It checks the mechanics (`make demo`, tests), not the accuracy.
_base_ = ['../cag/gta2cs_warmup.py', './_cag_common.py']
demo_iters = 200
model = _base_.demo_cag_model
load_from = None
optim_wrapper = dict(segmentor=dict(optimizer=dict(lr=_base_.demo_lr)))
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
