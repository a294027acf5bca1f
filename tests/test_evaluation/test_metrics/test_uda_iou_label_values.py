"""UDAIoUMetric refuses label values outside the classes, whatever loaded
the labels (e.g. the TTA pipeline's plain LoadAnnotations): MMSeg's
IoUMetric would silently score them and change the mIoU."""
import pytest
import torch

import mmseg_uda  # noqa: F401
from mmseg_uda.datasets.transforms.checked_load_annotations import \
    LabelValueError
from mmseg_uda.evaluation.metrics import UDAIoUMetric


def _sample(label, seg_map_path='val/a_labelTrainIds.png'):
    label = torch.tensor(label)[None]
    return dict(gt_sem_seg=dict(data=label),
                pred_sem_seg=dict(data=torch.zeros_like(label)),
                img_path='val/a.png', seg_map_path=seg_map_path)


def _metric():
    metric = UDAIoUMetric()
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    return metric


def test_out_of_range_label_is_named():
    with pytest.raises(LabelValueError) as err:
        _metric().process({}, [_sample([[0, 1, 50], [2, 255, 3]])])
    message = str(err.value)
    assert 'val/a_labelTrainIds.png' in message
    assert 'value(s) 3, 50 in 2 pixel(s)' in message
    assert '3 classes (0..2)' in message


def test_valid_labels_and_ignore_pass():
    metric = _metric()
    metric.process({}, [_sample([[0, 1, 2], [255, 255, 2]])])
    assert len(metric.results) == 1
