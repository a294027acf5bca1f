"""Category anchors (released running-mean rule), ATI and PLA on hand-made
features, written from METHODS.md sec. 4 / 6.1 as plain loops."""
import torch

from mmseg_uda.models.uda.category_anchors import (anchor_pseudo_labels,
                                                   probability_pseudo_labels,
                                                   update_anchors)

C, D = 3, 4


def reference_anchors(batches, max_count=3000):
    """Per image, per class with >= 10 correct pixels and a mean feature
    whose components do not sum to exactly 0, a running mean whose count
    saturates at max_count."""
    anchors = torch.zeros(C, D, dtype=torch.float64)
    counts = [0] * C
    for feature, labels, prediction in batches:
        for b in range(feature.shape[0]):
            for c in range(C):
                mask = (labels[b] == c) & (prediction[b] == c)
                if mask.sum() < 10:
                    continue
                v = feature[b][:, mask].double().mean(dim=1)
                if v.sum() == 0:
                    continue
                n = counts[c]
                anchors[c] = (anchors[c] * n + v) / (n + 1)
                counts[c] = min(n + 1, max_count)
    return anchors.float(), torch.tensor(counts)


def make_batches(num=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(num):
        feature = torch.randn(2, D, 8, 6, generator=g)
        labels = torch.randint(0, C, (2, 8, 6), generator=g)
        labels[:, 0] = 255
        prediction = torch.where(
            torch.rand(2, 8, 6, generator=g) < 0.8, labels,
            torch.randint(0, C, (2, 8, 6), generator=g))
        batches.append((feature, labels, prediction))
    return batches


def test_anchors_match_the_running_mean_loop():
    batches = make_batches()
    anchors = torch.zeros(C, D)
    counts = torch.zeros(C, dtype=torch.long)
    for batch in batches:
        update_anchors(anchors, counts, *batch)
    ref, ref_counts = reference_anchors(batches)
    assert torch.equal(counts, ref_counts)
    assert (counts > 0).all() and (counts < 6).any()  # some pairs skipped
    torch.testing.assert_close(anchors, ref)


def test_count_saturates_into_an_ema():
    batches = make_batches(num=4, seed=1)
    anchors = torch.zeros(C, D)
    counts = torch.zeros(C, dtype=torch.long)
    for batch in batches:
        update_anchors(anchors, counts, *batch, max_count=2)
    ref, ref_counts = reference_anchors(batches, max_count=2)
    assert torch.equal(counts, ref_counts) and (counts == 2).all()
    torch.testing.assert_close(anchors, ref)


def test_a_mean_feature_summing_to_zero_is_not_counted():
    """METHODS.md 6.4: an (image, class) whose masked mean feature sums to
    exactly 0 is skipped: neither folded in nor counted."""
    # two images of 6 x 5 pixels: rows 0-1 class 0, 2-3 class 1, 4-5 class 2
    # (10 pixels each, all predicted correctly), one constant feature each
    labels = torch.arange(3).repeat_interleave(2).view(1, 6, 1).expand(
        2, 6, 5).clone()
    values = [
        [[2., 0., 0., 0.],  # image 0: counted
         [1., -1., .5, -.5],  # sums to exactly 0, not all zero: skipped
         [1., -1., 2.**-20, 0.]],  # sums to 2^-20: counted
        [[0., 0., 0., 0.],  # image 1: all zero: skipped
         [0., 3., 0., 0.],
         [0., 0., 0., 4.]],
    ]
    feature = torch.zeros(2, D, 6, 5)
    for b in range(2):
        for c in range(C):
            feature[b, :, 2 * c:2 * c + 2] = torch.tensor(
                values[b][c]).view(D, 1, 1)
    anchors = torch.zeros(C, D)
    counts = torch.zeros(C, dtype=torch.long)
    update_anchors(anchors, counts, feature, labels, labels.clone())
    assert counts.tolist() == [1, 1, 2]
    expected = torch.tensor([[2., 0., 0., 0.], [0., 3., 0., 0.],
                             [.5, -.5, 2.**-21, 2.]])
    torch.testing.assert_close(anchors, expected, rtol=0, atol=1e-7)
    # later batches keep the rule: a zero mean does not dilute an anchor
    update_anchors(anchors, counts, torch.zeros(2, D, 6, 5), labels,
                   labels.clone())
    assert counts.tolist() == [1, 1, 2]
    torch.testing.assert_close(anchors, expected, rtol=0, atol=1e-7)


def test_ati_pla_margin_ties_and_ignore():
    anchors = torch.tensor([[0., 0.], [10., 0.], [0., 10.]])
    pixels = torch.tensor([
        [1., 0.],    # d = 1, 9, sqrt(101): gap 8 -> class 0
        [5., 0.],    # tie between 0 and 1 -> ignore
        [6.25, 0.],  # d = 6.25, 3.75: gap exactly 2.5 -> active, class 1
        [6.2, 0.],   # gap 2.4 -> ignore
        [0., 9.],    # class 2
    ])
    feature = pixels.t().reshape(1, 2, 1, 5)
    labels = anchor_pseudo_labels(feature, anchors, margin=2.5)
    assert labels.tolist() == [[[0, 255, 1, 255, 2]]]
    # a zero margin makes a tie active, labelled with the first class
    assert anchor_pseudo_labels(feature, anchors, 0.)[0, 0, 1] == 0


def test_probability_labels_are_strictly_above_the_threshold():
    p = torch.tensor([[0.96, 0.04], [0.95, 0.05], [0.02, 0.98]])
    logits = p.log().t().reshape(1, 2, 1, 3)
    assert probability_pseudo_labels(logits, 0.95).tolist() in (
        [[[0, 255, 1]]], [[[0, 0, 1]]])  # 0.95 after float rounding
    # exactly at the threshold -> ignored (strict)
    at = float(torch.softmax(logits, dim=1)[0, 0, 0, 1])
    assert probability_pseudo_labels(logits, at).tolist() == [[[0, 255, 1]]]
