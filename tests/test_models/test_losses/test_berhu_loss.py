"""berHu (METHODS.md sec. 5): values and gradients against hand
computations."""
import pytest
import torch

from mmseg_uda.models.losses import BerHuLoss, berhu_loss


def test_values_and_gradients_by_hand():
    # e = (0, 1, 2, 10), c = 0.2 * 10 = 2: the first three are linear,
    # the last (100 + 4) / (2 * 2) = 26; mean = 29 / 4.
    pred = torch.tensor([0., 1., -2., 10.], requires_grad=True)
    loss = berhu_loss(pred, torch.zeros(4))
    torch.testing.assert_close(loss, torch.tensor(7.25))
    loss.backward()
    # d/dp: sign(p) / 4 on the linear part, e / c * sign(p) / 4 beyond c
    # (c carries no gradient); at e = 0 the gradient is 0.
    torch.testing.assert_close(pred.grad,
                               torch.tensor([0., 0.25, -0.25, 1.25]))


def test_threshold_is_inclusive_and_target_gets_no_gradient():
    # e = (1, 5), c = 1: e = 1 is linear (1), e = 5 gives (25 + 1) / 2.
    pred = torch.tensor([[2., 6.]])
    target = torch.tensor([[1., 1.]], requires_grad=True)
    loss = berhu_loss(pred, target)
    torch.testing.assert_close(loss, torch.tensor((1 + 13) / 2))
    assert not loss.requires_grad


def test_zero_error_is_zero_with_finite_gradients():
    pred = torch.ones(1, 1, 2, 2, requires_grad=True)
    loss = berhu_loss(pred, torch.ones(1, 1, 2, 2))
    loss.backward()
    assert loss.item() == 0 and torch.isfinite(pred.grad).all()


def test_module_weight_name_and_shape_check():
    loss = BerHuLoss(loss_weight=0.5, loss_name='loss_depth')
    assert loss.loss_name == 'loss_depth'
    torch.testing.assert_close(
        loss(torch.tensor([0., 10.]), torch.zeros(2)),
        torch.tensor(0.5 * (0 + 26) / 2))
    with pytest.raises(ValueError, match=r'\(2,\).*\(3,\)'):
        berhu_loss(torch.zeros(2), torch.zeros(3))
