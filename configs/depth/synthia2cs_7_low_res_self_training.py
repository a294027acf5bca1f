# Depth distribution, self-training stage, SYNTHIA -> Cityscapes, 7
# categories at 640x320. Paper (seed 004) Table 2, low resolution: 67.7
# mIoU (after this stage). configs/depth/synthia2cs_7_self_training.py at
# 640x320, 30k iterations, from configs/depth/synthia2cs_7_low_res.py's
# model and its pseudo-labels (the same thresholds, counted at 640x320:
# an assumption, METHODS.md 6.3 says the same algorithm runs there), read
# at 640x320 as written.
_base_ = ['./synthia2cs_7_self_training.py']
input_scale = (640, 320)
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(
            seg_map_path='pseudo_labels/depth_synthia2cs_7_low_res'),
        pipeline=[
            dict(t, scale=input_scale) if 'scale' in t else t
            for t in _base_.train_dataloader.dataset.pipeline
        ]))
val_dataloader = dict(
    dataset=dict(pipeline=[
        dict(t, scale=input_scale) if 'scale' in t else t
        for t in _base_.test_pipeline
    ]))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=30000)
load_from = 'work_dirs/depth/synthia2cs_7_low_res/iter_90000.pth'
