# Demo of configs/daformer/gta2cs.py (DAFormer, 68.3 mIoU in the paper on
# the real data): DACS with alpha 0.999, the pseudo-label crop, rare-class
# sampling and DAFormer's AdamW / warm-up / poly 1.0 schedule on a MiT
# encoder with the DAFormer head, shrunk to the demo data. What differs,
# because nothing can be downloaded here and the images are small:
# - a MiT-B0-sized encoder (dims 32/64/160/256, 2 blocks per stage, the
#   release's eps and stochastic depth 0.1) and a 128-dim head, trained
#   from scratch (no ImageNet weights), hence without the ImageNet feature
#   distance (its frozen copy would be a random network) and with 5x the
#   learning rate (3e-4, head 3e-3), a 100-iteration warm-up and 1,000
#   iterations (poly 1.0 over them);
# - 128x128 crops of the 320x176 / 256x128 demo frames, so the
#   pseudo-label crop is scaled with the crop (rows 4 / 30 for the
#   release's 15 / 120 of 512) and RCS's 3000-pixel rule with the frame
#   area (84 pixels of the 320x176 frame for 3000 of 1914x1052).
_base_ = ['../daformer/gta2cs.py', './_demo.py']
demo_iters = 1000
demo_warmup = 100
demo_crop_size = (128, 128)
model = dict(
    pretrained=None,
    backbone=dict(embed_dims=32, num_layers=[2, 2, 2, 2]),
    decode_head=dict(
        in_channels=[32, 64, 160, 256], channels=128, embed_dims=128),
    uda_terms=[
        dict(
            _base_.dacs_term,
            pseudo_weight_ignore_top=4,
            pseudo_weight_ignore_bottom=30)
    ])
optim_wrapper = dict(optimizer=dict(lr=3e-4))
param_scheduler = [
    dict(_base_.param_scheduler[0], end=demo_warmup + 1),
    dict(_base_.param_scheduler[1], end=demo_iters + 1),
]
train_cfg = dict(max_iters=demo_iters, val_interval=demo_iters)
default_hooks = _base_.demo_hooks
randomness = dict(seed=0)
train_dataloader = dict(
    num_workers=2,
    dataset=dict(
        min_pixels=84,
        source=dict(
            data_root=_base_.demo_data + '/gta5',
            pipeline=[
                dict(t, scale=_base_.demo_source_scale) if t.type == 'Resize'
                else dict(t, crop_size=demo_crop_size)
                if t.type == 'RandomCrop' else t
                for t in _base_.source_pipeline
            ]),
        target=dict(
            data_root=_base_.demo_data + '/cityscapes',
            pipeline=[
                dict(t, scale=_base_.demo_target_scale) if t.type == 'Resize'
                else dict(t, crop_size=demo_crop_size)
                if t.type == 'RandomCrop' else t
                for t in _base_.target_pipeline
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
