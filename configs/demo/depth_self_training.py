# Demo of configs/depth/synthia2cs_7_self_training.py (the self-training
# stage, 72.6 mIoU on the real data): CE on the spatial-prior pseudo-labels
# of the demo Cityscapes train images written by
#   python tools/generate_pseudo_labels.py configs/demo/depth.py \
#       work_dirs/demo/full/depth/iter_300.pth \
#       --out data/demo/cityscapes/pseudo_labels/depth_demo
# from configs/demo/depth.py's model (whose pseudo_label_refinement scales
# the released thresholds to 320x192) at the input size, 320x192, and read
# as written; shrunk as the demo.
_base_ = ['../depth/synthia2cs_7_self_training.py', './_demo.py']
demo_iters = 100
depth_scale = (320, 192)
load_from = 'work_dirs/demo/full/depth/iter_300.pth'
model = _base_.demo_model
optim_wrapper = dict(optimizer=dict(lr=_base_.demo_lr))
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
        data_root=_base_.demo_data + '/cityscapes',
        data_prefix=dict(seg_map_path='pseudo_labels/depth_demo'),
        pipeline=[
            dict(t, scale=depth_scale) if 'scale' in t else t
            for t in _base_.train_dataloader.dataset.pipeline
        ]))
val_dataloader = dict(
    num_workers=2,
    dataset=dict(
        data_root=_base_.demo_data + '/cityscapes',
        pipeline=[
            dict(t, scale=depth_scale) if 'scale' in t else t
            for t in _base_.depth_test_pipeline
        ]))
test_dataloader = val_dataloader
