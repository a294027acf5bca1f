# Demo of configs/dacs/gta2cs_deeplabv2.py (DACS on the shared DeepLab-V2,
# 52.1 mIoU in the DACS paper on the real data): same config, shrunk by
# configs/demo/_demo.py. The original starts from COCO-initialised weights,
# which the demo has none of: it starts from the demo source-only
# checkpoint instead, and trains 300 iterations of batch 2 + 2 crops of
# 128x128 (the demo images are 320x176 and 256x128).
_base_ = ['../dacs/gta2cs_deeplabv2.py', './_demo.py']
demo_iters = 300
demo_crop_size = (128, 128)
load_from = 'work_dirs/demo/full/source_only/iter_600.pth'
model = _base_.demo_model
optim_wrapper = dict(optimizer=dict(lr=_base_.demo_lr))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0,
                        end=demo_iters, by_epoch=False)]
train_cfg = dict(max_iters=demo_iters, val_interval=demo_iters)
default_hooks = _base_.demo_hooks
randomness = dict(seed=0)

train_dataloader = dict(
    num_workers=2,
    dataset=dict(
        source=dict(
            data_root=_base_.demo_data + '/gta5',
            pipeline=[
                dict(t, scale=_base_.demo_source_scale) if t.type == 'Resize'
                else dict(t, crop_size=demo_crop_size)
                if t.type == 'RandomCrop' else t
                for t in _base_.dacs_source_pipeline
            ]),
        target=dict(
            data_root=_base_.demo_data + '/cityscapes',
            pipeline=[
                dict(t, scale=_base_.demo_target_scale) if t.type == 'Resize'
                else dict(t, crop_size=demo_crop_size)
                if t.type == 'RandomCrop' else t
                for t in _base_.dacs_target_pipeline
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
