"""MaxSquare's released optimiser: backbone tensors listed several times in
one SGD group, one PyTorch-1.0 update per listing (issue 10, item 1).

The reference below is written from the issue's description, not from the
component: the release's builder walks the backbone's top-level parts and
yields, for every module inside a part, all of that module's (nested)
trainable parameters; then, for each listing in order, weight decay is added
in place to the gradient, the tensor's one momentum buffer is updated (a copy
of the gradient at its first listing of the first step) and the tensor steps
by -lr * buffer.
"""
import copy

import pytest
import torch
from mmengine.optim import PolyLR, build_optim_wrapper
from mmengine.registry import init_default_scope
from mmseg.registry import OPTIMIZERS
from torch import nn

from mmseg_uda.models.backbones import DeepLabResNet

LR, MOMENTUM, WD, HORIZON = 1e-3, 0.9, 5e-4, 10

CFG = dict(
    type='OptimWrapper',
    constructor='NestedListingOptimWrapperConstructor',
    nested_listing_modules=['backbone'],
    optimizer=dict(
        type='RepeatedListingSGD', lr=LR, momentum=MOMENTUM,
        weight_decay=WD),
    paramwise_cfg=dict(custom_keys=dict(decode_head=dict(lr_mult=10.0))))


class TinySegmentor(nn.Module):

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.backbone = DeepLabResNet(
            depth=50, stage_blocks=(1, 1, 1, 1), base_channels=4,
            stem_channels=4, style='caffe', frozen_bn_affine='stem',
            out_indices=(3, ))
        self.decode_head = nn.Conv2d(128, 3, 3, padding=1)

    def forward(self, x):
        return self.decode_head(self.backbone(x)[-1])


def loss_of(model, x, target):
    return (model(x) - target).pow(2).mean()


def released_listing(model):
    """The release's one group, as a list with repetitions: the backbone's
    parts walked module by module, then the head's parameters once."""
    listed = []
    for part in model.backbone.children():
        for module in part.modules():
            for p in module.parameters():
                if p.requires_grad:
                    listed.append((p, LR))
    listed += [(p, 10 * LR) for p in model.decode_head.parameters()]
    return listed


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmseg')


def test_multiplicities_follow_module_structure():
    model = TinySegmentor()
    wrapper = build_optim_wrapper(model, copy.deepcopy(CFG))
    listings = {
        id(p): g['listings']
        for g in wrapper.optimizer.param_groups for p in g['params']
    }
    by_name = {n: listings[id(p)] for n, p in model.named_parameters()
               if p.requires_grad}
    downsample = [n for n in by_name if '.downsample.' in n]
    assert len(downsample) == 12
    assert all(by_name[n] == 4 for n in downsample)
    assert by_name['backbone.conv1.weight'] == 1
    assert all(by_name[n] == 1 for n in by_name if n.startswith('decode'))
    rest = [n for n in by_name if n.startswith('backbone.')
            and n not in downsample and n != 'backbone.conv1.weight']
    assert rest and all(by_name[n] == 3 for n in rest)
    # the frozen stem BN is not listed (and has no gradient)
    assert not model.backbone.bn1.weight.requires_grad
    # a different nesting gives different counts: derived, not hard-coded
    model.backbone.layer1 = nn.Sequential(nn.Sequential(model.backbone.layer1))
    wrapper = build_optim_wrapper(model, copy.deepcopy(CFG))
    listings = {
        id(p): g['listings']
        for g in wrapper.optimizer.param_groups for p in g['params']
    }
    assert listings[id(model.backbone.layer1[0][0][0].conv1.weight)] == 5


def test_first_step_of_a_thrice_listed_tensor():
    # 3 listings, no decay: (1 + 1.9 + 2.71) * lr * g at the first step
    p = nn.Parameter(torch.zeros(2, dtype=torch.float64))
    opt = OPTIMIZERS.build(
        dict(type='RepeatedListingSGD', lr=0.1, momentum=0.9,
             params=[dict(params=[p], listings=3)]))
    p.grad = torch.tensor([1.0, -2.0], dtype=torch.float64)
    opt.step()
    expected = -(1 + 1.9 + 2.71) * 0.1 * torch.tensor([1.0, -2.0])
    assert torch.allclose(p.detach(), expected.double())


def test_steps_match_the_released_arithmetic_under_poly_lr():
    model = TinySegmentor().double()
    reference = copy.deepcopy(model)
    wrapper = build_optim_wrapper(model, copy.deepcopy(CFG))
    scheduler = PolyLR(wrapper, power=0.9, eta_min=0.0, begin=0,
                       end=HORIZON, by_epoch=False)
    listed = released_listing(reference)
    buffers = {}
    torch.manual_seed(1)
    for it in range(4):
        x = torch.randn(1, 3, 33, 33, dtype=torch.float64)
        target = torch.randn(1, 3, 5, 5, dtype=torch.float64)
        # component under test
        wrapper.update_params(loss_of(model, x, target))
        scheduler.step()
        # plain reference loop
        reference.zero_grad()
        loss_of(reference, x, target).backward()
        # mmengine's PolyLR(end=E) decays as (1 - t / (E - 1))^0.9
        factor = (1 - it / (HORIZON - 1))**0.9
        with torch.no_grad():
            for p, base_lr in listed:
                if p.grad is None:
                    continue
                d_p = p.grad
                d_p.add_(WD * p)
                if id(p) not in buffers:
                    buffers[id(p)] = d_p.clone()
                else:
                    buffers[id(p)].mul_(MOMENTUM).add_(d_p)
                p.add_(-base_lr * factor * buffers[id(p)])
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        assert torch.allclose(p, q, rtol=1e-10, atol=1e-12), name


def test_rejects_plain_sgd_type():
    cfg = copy.deepcopy(CFG)
    cfg['optimizer']['type'] = 'SGD'
    with pytest.raises(ValueError, match='RepeatedListingSGD'):
        build_optim_wrapper(TinySegmentor(), cfg)


def _run_repeated_listing_sgd(foreach, steps=3):
    torch.manual_seed(3)
    params = [nn.Parameter(torch.randn(5, 4)) for _ in range(4)]
    opt = OPTIMIZERS.build(
        dict(type='RepeatedListingSGD', lr=0.05, momentum=0.9,
             weight_decay=5e-4, foreach=foreach,
             params=[dict(params=params[:2], listings=3),
                     dict(params=params[2:], listings=1, lr=0.5)]))
    for step in range(steps):
        for i, p in enumerate(params):
            # params[3] gets no gradient at step 0 (buffer created later)
            p.grad = None if (i == 3 and step == 0) else torch.randn(5, 4)
        opt.step()
    return [p.detach().clone() for p in params], opt


def test_foreach_update_equals_the_per_tensor_update():
    looped, _ = _run_repeated_listing_sgd(foreach=False)
    multi, opt = _run_repeated_listing_sgd(foreach=True)
    for a, b in zip(looped, multi):
        assert torch.equal(a, b)
    two_steps, _ = _run_repeated_listing_sgd(foreach=False, steps=2)
    assert not torch.equal(looped[0], two_steps[0])  # the steps count
    # a state saved before the option existed still loads and steps
    state = opt.state_dict()
    for group in state['param_groups']:
        group.pop('foreach')
    _, fresh = _run_repeated_listing_sgd(foreach=True, steps=0)
    fresh.load_state_dict(state)
    for group in fresh.param_groups:
        for p in group['params']:
            p.grad = torch.ones_like(p)
    fresh.step()
