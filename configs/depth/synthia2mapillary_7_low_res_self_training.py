# Depth distribution, self-training stage, SYNTHIA -> Mapillary Vistas, 7
# categories at 640x320. Paper (seed 004) Table 3, low resolution: 60.3
# mIoU (after this stage). configs/depth/synthia2mapillary_7_self_training
# .py at 640x320 (the release's 9,000-image list, pseudo-labels read at
# 640x320 as written), from configs/depth/synthia2mapillary_7_low_res.py's
# model and its pseudo-labels.
_base_ = ['./synthia2mapillary_7_self_training.py']
input_scale = (640, 320)
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(
            seg_map_path='pseudo_labels/depth_synthia2mapillary_7_low_res'),
        pipeline=[
            dict(t, scale=input_scale) if 'scale' in t else t
            for t in _base_.train_dataloader.dataset.pipeline
        ]))
val_dataloader = dict(
    dataset=dict(pipeline=[
        dict(t, scale=input_scale) if 'scale' in t else t
        for t in _base_.fit_test_pipeline
    ]))
test_dataloader = val_dataloader
load_from = 'work_dirs/depth/synthia2mapillary_7_low_res/iter_90000.pth'
