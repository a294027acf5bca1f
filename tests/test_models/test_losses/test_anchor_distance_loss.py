"""AnchorDistanceLoss against a per-(image, class) loop written from
METHODS.md sec. 6.1: values, the rescale loop, both gradient modes, the
paper's L2 form, and no NaN without a valid pair."""
import pytest
import torch

from mmseg_uda.models.losses import AnchorDistanceLoss

C, D, H, W = 3, 4, 6, 5


def reference(feature, labels, prediction, anchors, distance='smooth_l1',
              rescale=True):
    """Loop over images and classes; masked mean with plain autograd."""
    losses = []
    for b in range(feature.shape[0]):
        for c in range(C):
            mask = (labels[b] == c) & (prediction[b] == c)
            if mask.sum() < 10:
                continue
            v = feature[b][:, mask].mean(dim=1)
            if distance == 'smooth_l1':
                diff = (v - anchors[c]).abs()
                loss = torch.where(diff < 1, 0.5 * diff**2, diff - 0.5).mean()
            else:
                loss = ((v - anchors[c])**2).sum().sqrt()
            while rescale and loss > 5:
                loss = loss / 10
            losses.append(loss)
    if not losses:
        return feature.sum() * 0
    return 10 * sum(losses) / len(losses)


def make_inputs(seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    feature = (torch.randn(2, D, H, W, generator=g) * scale).requires_grad_()
    labels = torch.randint(0, C, (2, H, W), generator=g)
    labels[0, 0] = 255
    prediction = labels.clone()
    prediction[1, :2] = (prediction[1, :2] + 1) % C  # some disagree
    anchors = torch.randn(C, D, generator=g) * 3
    return feature, labels, prediction, anchors


@pytest.mark.parametrize('scale', [1.0, 40.0, 3000.0])
def test_values_match_the_loop_including_rescale(scale):
    feature, labels, prediction, anchors = make_inputs(scale=scale)
    expected = reference(feature, labels, prediction, anchors * scale)
    ours = AnchorDistanceLoss(C, gradient='autograd')(
        feature, labels, prediction, anchors * scale)
    torch.testing.assert_close(ours, expected)
    if scale > 1:  # the rescale loop really ran
        unscaled = AnchorDistanceLoss(C, rescale_above=None)(
            feature, labels, prediction, anchors * scale)
        assert unscaled > 5 * expected


def test_plain_autograd_gradient_matches_the_loop():
    feature, labels, prediction, anchors = make_inputs(scale=20.)
    ref_f = feature.detach().clone().requires_grad_()
    reference(ref_f, labels, prediction, anchors * 20).backward()
    AnchorDistanceLoss(C, gradient='autograd')(feature, labels, prediction,
                                               anchors * 20).backward()
    torch.testing.assert_close(feature.grad, ref_f.grad)


def test_released_gradient_gives_each_masked_pixel_2_over_hw():
    feature, labels, prediction, anchors = make_inputs()
    ref_f = feature.detach().clone().requires_grad_()
    reference(ref_f, labels, prediction, anchors).backward()
    AnchorDistanceLoss(C)(feature, labels, prediction, anchors).backward()
    # plain grad of a masked pixel = g / n_mask; released = g * 2 / (H * W)
    for b in range(2):
        for c in range(C):
            mask = (labels[b] == c) & (prediction[b] == c)
            if mask.sum() < 10:
                assert feature.grad[b][:, mask].abs().sum() == 0
                continue
            expected = ref_f.grad[b][:, mask] * mask.sum() * 2 / (H * W)
            torch.testing.assert_close(feature.grad[b][:, mask], expected)
    # values are unchanged by the gradient mode
    torch.testing.assert_close(
        AnchorDistanceLoss(C)(feature, labels, prediction, anchors),
        reference(feature, labels, prediction, anchors))


def test_paper_l2_form():
    feature, labels, prediction, anchors = make_inputs(scale=5.)
    loss = AnchorDistanceLoss(C, distance='l2', rescale_above=None,
                              gradient='autograd')
    expected = reference(feature, labels, prediction, anchors, 'l2', False)
    torch.testing.assert_close(loss(feature, labels, prediction, anchors),
                               expected)


def test_no_pair_gives_zero_not_nan():
    feature, labels, prediction, anchors = make_inputs()
    loss = AnchorDistanceLoss(C)(feature, torch.full_like(labels, 255),
                                 prediction, anchors)
    assert loss.item() == 0 and loss.requires_grad
    loss.backward()
    assert torch.isfinite(feature.grad).all()


def test_fewer_than_ten_pixels_is_no_pair():
    feature = torch.zeros(1, D, 3, 3, requires_grad=True)
    labels = torch.zeros(1, 3, 3, dtype=torch.long)  # 9 pixels of class 0
    anchors = torch.ones(C, D)
    assert AnchorDistanceLoss(C)(feature, labels, labels, anchors) == 0
    labels = torch.zeros(1, 2, 5, dtype=torch.long)  # 10 pixels
    feature = torch.zeros(1, D, 2, 5)
    # SmoothL1(0, 1) = 0.5 per dim -> 10 * 0.5
    assert AnchorDistanceLoss(C)(feature, labels, labels, anchors) == 5.0


def test_bad_options_are_named():
    with pytest.raises(ValueError, match='distance'):
        AnchorDistanceLoss(C, distance='l1')
    with pytest.raises(ValueError, match='gradient'):
        AnchorDistanceLoss(C, gradient='x')
