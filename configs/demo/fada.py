# Demo of configs/fada/gta2cs.py (FADA, 49.2 mIoU on the real data): the same
# config (frozen-BN torchvision-style network, class-aware discriminator on
# the last backbone stage, SGD + Adam in one backward pass), shrunk by
# configs/demo/_demo.py. The demo network's last stage has 512 channels, so
# the discriminator reads 512. No ImageNet or source-only weights exist
# here: the demo starts from random weights (frozen BN is then the identity),
# so it checks the mechanics (tests, `make demo`), not the accuracy.
_base_ = ['../fada/gta2cs.py', './_demo.py']
demo_iters = 300
load_from = None
model = dict(
    _base_.demo_model,
    uda_terms=[
        dict(
            _base_.model.uda_terms[0],
            discriminator=dict(
                _base_.model.uda_terms[0].discriminator, in_channels=512))
    ])
optim_wrapper = dict(segmentor=dict(optimizer=dict(lr=_base_.demo_lr)))
param_scheduler = [
    dict(
        type='PolyLR',
        power=0.9,
        eta_min=0.0,
        begin=0,
        end=demo_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=demo_iters, val_interval=demo_iters)
default_hooks = _base_.demo_hooks
train_dataloader = dict(
    num_workers=2,
    dataset=dict(
        source=dict(
            data_root=_base_.demo_data + '/gta5',
            pipeline=[
                dict(t, scale=_base_.demo_source_scale)
                if t.type == 'Resize' else t
                for t in _base_.fada_source_pipeline
            ]),
        target=dict(
            data_root=_base_.demo_data + '/cityscapes',
            pipeline=[
                dict(t, scale=_base_.demo_target_scale)
                if t.type == 'Resize' else t
                for t in _base_.fada_target_pipeline
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
