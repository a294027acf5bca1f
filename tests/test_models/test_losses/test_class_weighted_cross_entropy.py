"""Class-weighted source CE: PyTorch's weighted mean, the released weights
(METHODS.md 6.3) and their derivation from class_stats.json."""
import json

import pytest
import torch

from mmseg_uda.models.losses import (ClassWeightedCrossEntropyLoss,
                                     class_weights_from_stats)
from mmseg_uda.models.losses.class_weighted_cross_entropy import \
    RELEASED_SOURCE_WEIGHTS


def test_weighted_mean_over_labelled_pixels_by_hand():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 2, 2)
    label = torch.tensor([[[0, 1], [2, 255]], [[1, 1], [255, 0]]])
    w = torch.tensor([0.5, 2.0, 4.0])
    loss = ClassWeightedCrossEntropyLoss([0.5, 2.0, 4.0], num_classes=3)
    num, den = 0., 0.
    logp = logits.log_softmax(1)
    for b in range(2):
        for i in range(2):
            for j in range(2):
                y = int(label[b, i, j])
                if y != 255:
                    num += -w[y] * logp[b, y, i, j]
                    den += w[y]
    torch.testing.assert_close(loss(logits, label), num / den)
    assert loss.loss_name == 'loss_ce'
    # Nothing labelled: 0, not nan.
    assert loss(logits, torch.full_like(label, 255)).item() == 0


def test_released_weights_follow_the_documented_formula():
    # w_c = 1 / (C * f_c) with shares f summing to 1: sum 1 / w = C.
    for count, weights in RELEASED_SOURCE_WEIGHTS.items():
        assert len(weights) == count
        assert sum(1 / w for w in weights) == pytest.approx(count, rel=2e-3)
    loss = ClassWeightedCrossEntropyLoss('released-7', num_classes=7)
    torch.testing.assert_close(loss.class_weight,
                               torch.tensor(RELEASED_SOURCE_WEIGHTS[7]))


def test_weights_from_class_stats(tmp_path):
    stats = {
        'GT/LABELS/a_labelTrainIds7.png': {'0': 30, '1': 10},
        'GT/LABELS/b_labelTrainIds7.png': {'0': 10, '2': 50},
        # another setting of the same images is not counted
        'GT/LABELS/a_labelTrainIds16.png': {'5': 1000},
    }
    path = tmp_path / 'class_stats.json'
    path.write_text(json.dumps(stats))
    weights = class_weights_from_stats(str(path), 7)
    # shares 40/100, 10/100, 50/100, rest 0 -> 1 / (7 f), absent -> 0
    expected = [100 / (7 * 40), 100 / (7 * 10), 100 / (7 * 50), 0, 0, 0, 0]
    assert weights == pytest.approx(expected)
    loss = ClassWeightedCrossEntropyLoss(str(path), num_classes=7)
    torch.testing.assert_close(loss.class_weight,
                               torch.tensor(expected, dtype=torch.float32))
    with pytest.raises(ValueError, match='labelTrainIds13'):
        class_weights_from_stats(str(path), 13)


def test_bad_configurations_are_named():
    with pytest.raises(ValueError, match='7 class weights.*16 classes'):
        ClassWeightedCrossEntropyLoss('released-7', num_classes=16)
    with pytest.raises(ValueError, match='no released weights for 13'):
        ClassWeightedCrossEntropyLoss('released-13')
    loss = ClassWeightedCrossEntropyLoss([1., 1.])
    with pytest.raises(ValueError, match='2 class weights.*3 classes'):
        loss(torch.zeros(1, 3, 2, 2), torch.zeros(1, 2, 2, dtype=torch.long))
