# Depth distribution, SYNTHIA RAND-CITYSCAPES -> Cityscapes, 7 categories
# at 640x320 (METHODS.md sec. 5, 6.2). Paper (seed 004) Table 2, low
# resolution: 67.7 mIoU (with self-training, 30k iterations).
# configs/depth/synthia2cs_7.py with both domains and the test input at
# 640x320 (labels still at 2048x1024, logits upsampled to them), the GMMs
# on the 81x41 grid and lambda_dep 0.001. Images shrink with Pillow bicubic
# (antialiased), as the release.
_base_ = ['./synthia2cs_7.py']
input_scale = (640, 320)
grid_size = (81, 41)
model = dict(
    uda_terms=[
        dict(
            _base_.model.uda_terms[0],
            grid_size=grid_size,
            depth_weight=0.001,
            gmm_file='work_dirs/depth/gmm_synthia7_81x41.json')
    ])

train_dataloader = dict(
    dataset=dict(
        source=dict(pipeline=[
            dict(t, scale=input_scale) if 'scale' in t else t
            for t in _base_.source_pipeline
        ]),
        target=dict(pipeline=[
            dict(t, scale=input_scale) if 'scale' in t else t
            for t in _base_.target_pipeline
        ])))
val_dataloader = dict(
    dataset=dict(pipeline=[
        dict(t, scale=input_scale) if 'scale' in t else t
        for t in _base_.test_pipeline
    ]))
test_dataloader = val_dataloader
