# Test-time augmentation for `tools/test.py --tta`: the softmax outputs of
# the image and of its horizontal flip are averaged (METHODS.md §0).
#
# The TTA pipeline is not written here: tools/test.py derives it from the
# config's own test pipeline (mmseg_uda.evaluation.tta_pipeline), so the
# views have the config's test scale (256x128 for configs/demo, 2048x1024
# for configs/fada/gta2cs_self_distill.py, ...) and its label handling
# (full-resolution labels, or LabelsAtInferenceSize for MaxSquare's
# convention): the test pipeline's Resize is repeated per ratio of
# `tta_img_ratios`, each followed by a plain and a flipped view, then every
# later step of the test pipeline (so labels loaded after Resize stay
# un-flipped and at their resolution).
#
# MMSeg's SegTTAModel averages softmax probabilities, not logits: each view's
# logits are un-flipped and resized to `ori_shape` by
# EncoderDecoder.postprocess_result, then merge_preds takes the mean of their
# softmax and its argmax (checked against a hand computation in
# tests/test_evaluation/test_tta_flip.py). MeasuredSegTTAModel does exactly
# that and keeps each view's input size and flip in the merged sample, so
# that UDAIoUMetric's convention line reports them as measured.
#
# Names start with `tta_` so that this file can be inherited together with a
# dataset base: mmengine refuses a key defined in two bases.
#
# Multi-scale: e.g. tta_img_ratios = [0.75, 1.0, 1.25] (scales of the test
# Resize's `scale`; the first ratio's plain view provides the label).
tta_img_ratios = [1.0]  # no multi-scale by default
tta_model = dict(type='MeasuredSegTTAModel')
