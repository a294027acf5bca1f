# Test-time augmentation for `tools/test.py --tta`: the softmax outputs of
# the image and of its horizontal flip are averaged (METHODS.md §0).
#
# MMSeg's SegTTAModel averages softmax probabilities, not logits: each view's
# logits are un-flipped and resized to `ori_shape` by
# EncoderDecoder.postprocess_result, then SegTTAModel.merge_preds takes the
# mean of their softmax and its argmax (checked against a hand computation
# in tests/test_evaluation/test_tta_flip.py).
#
# Labels are loaded inside each view, after the flip, so they stay un-flipped
# and at full resolution; the merged sample keeps the first view's label.
#
# Names start with `tta_` so that this file can be inherited together with a
# dataset base (which defines e.g. `test_scale`): mmengine refuses a key
# defined in two bases.
#
# Options (the list comprehensions below are evaluated in this file, so a
# config that changes them re-states `tta_resize_views` and the pipeline):
# - multi-scale: tta_img_ratios = [0.75, 1.0, 1.25] scales `tta_scale`;
# - labels at the inference size (MaxSquare's convention): use
#   `tta_pipeline_inference_labels`, which nearest-resizes every view's
#   label to `tta_scale` and scores the merged prediction there, e.g.
#   `tta_pipeline = {{_base_.tta_pipeline_inference_labels}}`.
# Declare what was used in the evaluator, e.g.
#   test_evaluator = dict(type='UDAIoUMetric', flip=True, img_ratios=[1.0],
#                         label_resolution='full')
# so that the logged evaluation convention is true.

# (w, h) of the inference input, resized without keeping the aspect ratio
# like the dataset bases' test pipelines (Cityscapes and NTHU are 2:1).
tta_scale = (1024, 512)
tta_img_ratios = [1.0]  # no multi-scale by default

tta_model = dict(type='SegTTAModel')

tta_resize_views = [
    dict(
        type='Resize',
        scale=(round(tta_scale[0] * r), round(tta_scale[1] * r)),
        keep_ratio=False) for r in tta_img_ratios
]
tta_flip_views = [
    dict(type='RandomFlip', prob=0., direction='horizontal'),
    dict(type='RandomFlip', prob=1., direction='horizontal')
]

tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            tta_resize_views, tta_flip_views, [dict(type='LoadAnnotations')],
            [dict(type='PackSegInputs')]
        ])
]

tta_pipeline_inference_labels = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            tta_resize_views, tta_flip_views, [dict(type='LoadAnnotations')],
            [dict(type='LabelsAtInferenceSize', scale=tta_scale)],
            [dict(type='PackSegInputs')]
        ])
]
