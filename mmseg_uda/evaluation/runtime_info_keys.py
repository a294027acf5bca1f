"""MessageHub runtime-info keys shared by the evaluation hooks and metric.

Kept apart so that the metric and the hooks need not import each other.
"""
# dict(iter=int | None, max_iters=int | None) of the checkpoint under test,
# written by CheckpointInfoHook, read by UDAIoUMetric's convention line.
CHECKPOINT_INFO_KEY = 'uda_evaluated_checkpoint'
# {class name: IoU in %} of the last UDAIoUMetric evaluation, read by
# SideBySideVisualizationHook's bar chart.
PER_CLASS_IOU_KEY = 'uda_per_class_iou'
