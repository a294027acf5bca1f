"""The mean teacher (METHODS.md sec. 7.1 step 1, 7.10): EMA of the
student's parameters at t = 0, 1, 2, 999, 1000 against the plain formula
(both update timings), buffers neither averaged nor copied, dropout off
with BatchNorm on batch statistics, the counter in the state dict."""
import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmseg_uda.models.uda.mean_teacher import MeanTeacher


class TinySegmentor(BaseModule):
    """Backbone (conv + BN + dropout) and head, like an EncoderDecoder."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
            nn.Dropout2d(0.5))
        self.decode_head = nn.Conv2d(4, 2, 1)


def perturb(module, scale=0.1):
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn_like(p) * scale)


def student_params(student):
    return [p.detach().clone() for p in
            list(student.backbone.parameters()) +
            list(student.decode_head.parameters())]


@pytest.mark.parametrize('timing', ['before', 'after'])
def test_ema_matches_the_formula_at_t_0_1_2_999_1000(timing):
    torch.manual_seed(0)
    student = TinySegmentor()
    alpha = 0.99 if timing == 'after' else 0.999
    teacher = MeanTeacher(student, alpha=alpha, ema_update=timing)
    perturb(teacher)  # the copy at t = 0 must overwrite this
    expected = None
    for t in range(1001):
        perturb(student)
        theta_s = student_params(student)
        # the plain formula, METHODS.md sec. 7.1 step 1 / sec. 7.10
        if t == 0:
            expected = theta_s
        else:
            k = t if timing == 'before' else t - 1
            a = min(1 - 1 / (k + 1), alpha)
            expected = [a * e + (1 - a) * s
                        for e, s in zip(expected, theta_s)]
        assert teacher.t == t
        teacher.update(teacher.mirrored(student))
        if t in (0, 1, 2, 999, 1000):
            for got, want in zip(teacher.parameters(), expected):
                torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    assert teacher.t == 1001


def test_first_rates_of_both_timings():
    student = TinySegmentor()
    before = MeanTeacher(student, alpha=0.999, ema_update='before')
    after = MeanTeacher(student, alpha=0.99, ema_update='after')
    rates = {}
    for teacher in (before, after):
        rates[teacher.ema_update] = []
        for t in range(4):
            teacher.t = t
            rates[teacher.ema_update].append(teacher.current_alpha())
    # DAFormer: iteration 1 averages half the copy and half the student
    assert rates['before'] == pytest.approx([0.0, 0.5, 2 / 3, 0.75])
    # original DACS: index t after step t; iteration 1 sees the copy of
    # the student after step 0 (rate min(1 - 1/1, a) = 0)
    assert rates['after'] == pytest.approx([0.0, 0.0, 0.5, 2 / 3])
    for t, want in ((998, 0.999), (999, 0.999), (5000, 0.999)):
        before.t = t
        assert before.current_alpha() == pytest.approx(
            min(1 - 1 / (t + 1), 0.999))


def test_buffers_are_neither_averaged_nor_copied():
    torch.manual_seed(0)
    student = TinySegmentor()
    teacher = MeanTeacher(student)
    bn_s, bn_t = student.backbone[1], teacher.backbone[1]
    bn_t.running_mean.fill_(3.0)
    bn_s.running_mean.fill_(-1.0)
    for _ in range(3):
        teacher.update(teacher.mirrored(student))
    assert torch.equal(bn_t.running_mean, torch.full((4, ), 3.0))
    assert not teacher.backbone[0].weight.requires_grad


def test_forward_drops_no_units_and_normalises_with_batch_statistics():
    torch.manual_seed(0)
    student = TinySegmentor()
    teacher = MeanTeacher(student)
    teacher.update(teacher.mirrored(student))
    teacher.eval()  # whatever the caller did, forward sets the mode
    x = torch.randn(2, 3, 8, 8) * 5 + 2
    before = teacher.backbone[1].running_mean.clone()
    out = teacher(x)
    # plain: conv, BN with this batch's statistics, ReLU, no dropout, head
    conv = student.backbone[0](x)
    mean = conv.mean((0, 2, 3), keepdim=True)
    var = conv.var((0, 2, 3), unbiased=False, keepdim=True)
    bn = student.backbone[1]
    y = (conv - mean) / torch.sqrt(var + bn.eps)
    y = y * bn.weight.view(1, -1, 1, 1) + bn.bias.view(1, -1, 1, 1)
    want = student.decode_head(torch.relu(y))
    torch.testing.assert_close(out, want, rtol=1e-5, atol=1e-5)
    assert not out.requires_grad
    # its unused running buffers moved (train-mode BN), the dropout did not
    assert not torch.equal(teacher.backbone[1].running_mean, before)
    assert teacher.backbone[1].training and not teacher.backbone[3].training


def test_counter_is_in_the_state_dict_and_missing_means_zero():
    student = TinySegmentor()
    teacher = MeanTeacher(student)
    for _ in range(5):
        teacher.update(teacher.mirrored(student))
    state = teacher.state_dict()
    assert int(state['_extra_state']) == 5
    fresh = MeanTeacher(student)
    fresh.load_state_dict(state)
    assert fresh.t == 5
    for key, value in state.items():
        if key != '_extra_state':
            assert torch.equal(fresh.state_dict()[key], value), key
    other = MeanTeacher(student)
    result = other.load_state_dict(
        {k: v for k, v in state.items() if k != '_extra_state'},
        strict=False)
    assert result.missing_keys == ['_extra_state'] and other.t == 0


def test_bad_options_and_a_foreign_student_are_named():
    student = TinySegmentor()
    with pytest.raises(ValueError, match='alpha must be in'):
        MeanTeacher(student, alpha=1.0)
    with pytest.raises(ValueError, match="ema_update must be one of"):
        MeanTeacher(student, ema_update='later')
    teacher = MeanTeacher(student)
    other = TinySegmentor()
    other.decode_head = nn.Conv2d(4, 3, 1)
    with pytest.raises(ValueError, match='shapes differ'):
        teacher.update(teacher.mirrored(other))
