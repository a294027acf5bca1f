"""MultiOptimWrapper(+Constructor): one backward, every optimiser steps,
equal to the alternating generator/discriminator update (DESIGN.md)."""
import copy

import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from torch import nn

from mmseg_uda.engine.optimizers import MultiOptimWrapper


@pytest.fixture(autouse=True)
def mmseg_scope():
    # MultiOptimWrapperConstructor is registered in mmseg's registry; a
    # Runner built by an earlier test leaves another default scope behind
    init_default_scope('mmseg')


class GanToy(nn.Module):
    """A generator and a discriminator, as a UDA model holds them."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.backbone = nn.Linear(3, 4)
        self.decode_head = nn.Linear(4, 2)
        self.disc = nn.Linear(4, 1)

    def losses(self, x_s, x_t):
        f_s, f_t = self.backbone(x_s), self.backbone(x_t)
        seg = self.decode_head(f_s).pow(2).mean()
        # adversarial term through a frozen (functional, detached) D
        w, b = self.disc.weight.detach(), self.disc.bias.detach()
        adv = 0.1 * torch.nn.functional.linear(f_t, w, b).mean()
        # discriminator term on detached features
        d = self.disc(f_s.detach()).mean() - self.disc(f_t.detach()).mean()
        return seg + adv + d


CFG = dict(
    constructor='MultiOptimWrapperConstructor',
    segmentor=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.1, momentum=0.9),
        paramwise_cfg=dict(custom_keys=dict(decode_head=dict(lr_mult=10.)))),
    discriminator=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=0.01, betas=(0.9, 0.99)),
        modules=['disc']))


def test_constructor_splits_parameters():
    model = GanToy()
    wrapper = build_optim_wrapper(model, copy.deepcopy(CFG))
    assert isinstance(wrapper, MultiOptimWrapper)
    assert list(wrapper.optim_wrappers) == ['segmentor', 'discriminator']
    seg = {id(p) for g in wrapper['segmentor'].param_groups
           for p in g['params']}
    disc = {id(p) for g in wrapper['discriminator'].param_groups
            for p in g['params']}
    assert disc == {id(p) for p in model.disc.parameters()}
    # (mmengine adds a dummy base-lr group, hence <= rather than ==)
    assert {id(p) for n, p in model.named_parameters()
            if not n.startswith('disc')} <= seg
    assert not seg & disc
    lrs = sorted(g['lr'] for g in wrapper['segmentor'].param_groups)
    assert lrs[0] == pytest.approx(0.1) and lrs[-1] == pytest.approx(1.0)


def test_one_backward_equals_alternating_updates():
    x_s, x_t = torch.randn(5, 3), torch.randn(5, 3)
    model = GanToy()
    reference = copy.deepcopy(model)
    wrapper = build_optim_wrapper(model, copy.deepcopy(CFG))
    for _ in range(3):
        wrapper.update_params(model.losses(x_s, x_t))

    # The published form: generator step, then discriminator step, each
    # from its own backward pass with parameters from before the G step.
    g_params = [p for n, p in reference.named_parameters()
                if not n.startswith('disc')]
    heads = list(reference.decode_head.parameters())
    g_opt = torch.optim.SGD(
        [dict(params=list(reference.backbone.parameters())),
         dict(params=heads, lr=1.0)], lr=0.1, momentum=0.9)
    d_opt = torch.optim.Adam(reference.disc.parameters(), lr=0.01,
                             betas=(0.9, 0.99))
    for _ in range(3):
        f_s, f_t = reference.backbone(x_s), reference.backbone(x_t)
        d_s = reference.disc(f_s.detach()).mean()
        d_t = reference.disc(f_t.detach()).mean()
        g_opt.zero_grad()
        w, b = reference.disc.weight.detach(), reference.disc.bias.detach()
        g_loss = reference.decode_head(f_s).pow(2).mean() + 0.1 * (
            torch.nn.functional.linear(f_t, w, b).mean())
        g_loss.backward()
        d_opt.zero_grad()
        (d_s - d_t).backward()
        g_opt.step()
        d_opt.step()
    assert len(g_params) == 4
    for a, b in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(a, b)
    # gradients were zeroed after the step
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())


def test_constructor_rejects_ambiguous_or_wrong_configs():
    bad = copy.deepcopy(CFG)
    bad['discriminator'].pop('modules')
    with pytest.raises(ValueError, match='exactly one entry'):
        build_optim_wrapper(GanToy(), bad)
    bad = copy.deepcopy(CFG)
    bad['discriminator']['modules'] = ['nope']
    with pytest.raises(KeyError, match='optim_wrapper.discriminator.modules'):
        build_optim_wrapper(GanToy(), bad)


def test_state_dict_round_trip():
    model = GanToy()
    wrapper = build_optim_wrapper(model, copy.deepcopy(CFG))
    wrapper.update_params(model.losses(torch.randn(2, 3), torch.randn(2, 3)))
    state = wrapper.state_dict()
    assert set(state) == {'segmentor', 'discriminator'}
    fresh = build_optim_wrapper(GanToy(), copy.deepcopy(CFG))
    fresh.load_state_dict(state)
    assert fresh['discriminator'].state_dict()['state'][0]['step'] == 1
