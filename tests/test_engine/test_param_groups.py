"""merge_param_groups: MultiOptimWrapperConstructor ends with one group per
distinct setting, and steps equal those of the per-parameter groups."""
import copy

import torch
from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn

import mmseg_uda  # noqa: F401
from mmseg_uda.engine.optimizers import MultiOptimWrapperConstructor
from mmseg_uda.engine.optimizers.param_groups import merge_param_groups


class Net(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 1))
        self.decode_head = nn.Conv2d(4, 2, 1)
        self.disc = nn.Conv2d(2, 1, 1)


SGD = dict(type='OptimWrapper',
           optimizer=dict(type='SGD', lr=0.1, momentum=0.9,
                          weight_decay=5e-4),
           paramwise_cfg=dict(custom_keys=dict(decode_head=dict(lr_mult=10.))))


def test_constructor_groups_by_setting():
    torch.manual_seed(0)
    wrapper = MultiOptimWrapperConstructor(
        dict(segmentor=SGD,
             discriminator=dict(type='OptimWrapper',
                                optimizer=dict(type='Adam', lr=1e-3),
                                modules=['disc'])))(Net())
    groups = wrapper['segmentor'].optimizer.param_groups
    assert [len(g['params']) for g in groups] == [4, 2]
    assert [g['lr'] for g in groups] == [0.1, 1.0]
    assert len(wrapper['discriminator'].optimizer.param_groups) == 1


def test_merged_steps_equal_per_parameter_groups():
    torch.manual_seed(0)
    net = Net()
    ref = copy.deepcopy(net)
    wrapper_cfg = dict(type='OptimWrapper', optimizer=SGD['optimizer'])
    merged = merge_param_groups(
        DefaultOptimWrapperConstructor(copy.deepcopy(wrapper_cfg),
                                       SGD['paramwise_cfg'])(net).optimizer)
    plain = DefaultOptimWrapperConstructor(
        copy.deepcopy(wrapper_cfg), SGD['paramwise_cfg'])(ref).optimizer
    assert len(plain.param_groups) > len(merged.param_groups)
    for _ in range(3):
        x = torch.randn(2, 3, 8, 8)
        for model, opt in ((net, merged), (ref, plain)):
            opt.zero_grad()
            model.decode_head(model.backbone(x)).square().mean().backward()
            opt.step()
    for a, b in zip(net.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
