# Depth distribution, SYNTHIA RAND-CITYSCAPES -> Mapillary Vistas, 7
# categories at 640x320 (METHODS.md sec. 5, 6.2). Paper (seed 004)
# Table 3, low resolution: 60.3 mIoU (with self-training, 30k iterations).
# configs/depth/synthia2mapillary_7.py with SYNTHIA resized and Vistas
# fitted and padded into 640x320 (training and testing, evaluated at that
# size, the fitted side truncated: int(W * 320 / H) for a 4:3 image), GMMs
# on the 81x41 grid; the weights are the full-resolution ones (the same in
# the release).
_base_ = ['./synthia2mapillary_7.py']
input_scale = (640, 320)
grid_size = (81, 41)
model = dict(
    uda_terms=[
        dict(
            _base_.model.uda_terms[0],
            grid_size=grid_size,
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
            for t in _base_.fit_target_pipeline
        ])))
val_dataloader = dict(
    dataset=dict(pipeline=[
        dict(t, scale=input_scale) if 'scale' in t else t
        for t in _base_.fit_test_pipeline
    ]))
test_dataloader = val_dataloader
