import pytest
import torch

from mmseg_uda.models.losses.image_wise_weights import (
    check_iw_ratio, check_seg_logits, image_wise_class_weights,
    image_wise_weighted_sum)


def test_weights_hand_case(hand_logits):
    # n_0 = 3, n_1 = 1, N = 4, alpha = 0.2:
    # w_0 = 1 / (3**0.2 * 4**0.8) = 1 / (1.245731 * 3.031433) = 0.264806
    # w_1 = 1 / (1**0.2 * 4**0.8) = 1 / 3.031433             = 0.329877
    weights = image_wise_class_weights(hand_logits.softmax(dim=1), 0.2)
    expected = torch.tensor([[[[0.264806, 0.264806], [0.264806, 0.329877]]]],
                            dtype=torch.float64)
    assert weights.shape == (1, 1, 2, 2)
    torch.testing.assert_close(weights, expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize('ratio', [0.0, 0.2, 0.5, 1.0])
def test_weights_match_reference_per_image(ratio, reference_iw_weights):
    torch.manual_seed(0)
    # Few pixels, several classes: some classes are absent in some images,
    # and images have different histograms, so a batch-level histogram or a
    # wrong broadcast would be caught.
    probs = torch.randn(3, 4, 3, 5).mul(3).softmax(dim=1)
    weights = image_wise_class_weights(probs, ratio)
    torch.testing.assert_close(weights.double(),
                               reference_iw_weights(probs, ratio))


def test_weight_limits():
    torch.manual_seed(1)
    probs = torch.randn(2, 3, 4, 4).softmax(dim=1)
    # alpha = 0 is a plain average over the N = 16 pixels of each image.
    torch.testing.assert_close(
        image_wise_class_weights(probs, 0.0), torch.full((2, 1, 4, 4), 1 / 16))
    # alpha = 1 is inverse class frequency: each present class sums to 1.
    weights = image_wise_class_weights(probs, 1.0)
    num_present = torch.tensor(
        [probs[b].argmax(0).unique().numel() for b in range(2)],
        dtype=weights.dtype)
    torch.testing.assert_close(weights.sum(dim=(1, 2, 3)), num_present)


def test_weights_are_detached():
    logits = torch.randn(1, 3, 2, 2, requires_grad=True)
    weights = image_wise_class_weights(logits.softmax(dim=1), 0.2)
    assert not weights.requires_grad


def test_weights_do_not_overflow_in_half(reference_iw_weights):
    # N = 90000 > 65504 (fp16 max): counts in fp16 would overflow to inf and
    # zero the weights; they must be computed in at least float32.
    torch.manual_seed(2)
    probs = torch.rand(1, 2, 300, 300).half()
    weights = image_wise_class_weights(probs, 0.2)
    assert weights.dtype == torch.float32
    torch.testing.assert_close(weights.double(),
                               reference_iw_weights(probs.float(), 0.2))


def test_weighted_sum_is_mean_over_images():
    torch.manual_seed(3)
    probs = torch.randn(3, 4, 2, 3).softmax(dim=1)
    elementwise = torch.randn(3, 4, 2, 3)
    batch = image_wise_weighted_sum(elementwise, probs, 0.2)
    per_image = torch.stack([
        image_wise_weighted_sum(elementwise[b:b + 1], probs[b:b + 1], 0.2)
        for b in range(3)
    ])
    torch.testing.assert_close(batch, per_image.mean())


@pytest.mark.parametrize('ratio', [-0.1, 1.5, '0.2', True])
def test_bad_iw_ratio_raises(ratio):
    with pytest.raises(ValueError, match='SomeLoss: iw_ratio'):
        check_iw_ratio(ratio, 'SomeLoss')


def test_bad_logits_raise():
    with pytest.raises(ValueError, match=r'SomeLoss.*\(2, 3, 4\)'):
        check_seg_logits(torch.zeros(2, 3, 4), 'SomeLoss')
    with pytest.raises(TypeError, match='SomeLoss.*torch.int64'):
        check_seg_logits(torch.zeros(1, 2, 3, 4, dtype=torch.long), 'SomeLoss')
