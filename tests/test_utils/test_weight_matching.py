"""Checkpoints that do not fit the model are refused, naming the file; every
load prints a one-line matched / missing / unexpected summary."""
import pytest
import torch
from checkpoint_toy import ToyModel, make_runner
from mmengine.runner.checkpoint import load_checkpoint
from torch import nn

import mmseg_uda.utils.weight_matching as weight_matching
from mmseg_uda.utils.weight_matching import (MIN_MATCHED_FRACTION,
                                             IncompatibleCheckpointError,
                                             IncompleteCheckpointError,
                                             match_state_dict,
                                             require_complete_network)


class Net(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 4, 3))
        self.head = nn.Conv2d(4, 2, 1)


def test_summary_counts_by_name_and_shape():
    net = Net()
    state = net.state_dict()
    state['head.weight'] = torch.zeros(3, 4, 1, 1)  # another class count
    del state['head.bias']
    state['aux.weight'] = torch.zeros(1)
    summary = match_state_dict(net, state)
    # conv w+b, bn w+b+mean+var, conv w+b, head w+b (counter not counted)
    assert summary.total == 10
    assert len(summary.matched) == 8
    assert summary.missing == ['head.weight', 'head.bias']
    assert summary.wrong_shape == ['head.weight']
    assert summary.unexpected == ['aux.weight']
    line = summary.line('x.pth')
    assert line == ('Loaded weights from x.pth: 8 of 10 model tensors '
                    'matched, 2 missing, 1 unexpected (1 of the missing '
                    'present with another shape)')


def test_foreign_architecture_is_refused_naming_the_file(tmp_path):
    path = tmp_path / 'pspnet_r50.pth'
    torch.save(
        dict(state_dict={
            'backbone.stem.0.weight': torch.zeros(32, 3, 3, 3),
            'decode_head.conv_seg.weight': torch.zeros(19, 512, 1, 1)
        }), path)
    with pytest.raises(IncompatibleCheckpointError) as err:
        load_checkpoint(Net(), str(path))
    assert str(path) in str(err.value) and '0 of the model' in str(err.value)


def test_backbone_only_weights_load_with_a_summary(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(weight_matching, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    net = Net()
    path = tmp_path / 'backbone.pth'
    torch.save({k: v for k, v in net.state_dict().items()
                if k.startswith('backbone')}, path)
    assert 8 / 10 >= MIN_MATCHED_FRACTION
    load_checkpoint(Net(), str(path))
    assert logged == [
        f'Loaded weights from {path}: 8 of 10 model tensors matched, 2 '
        'missing, 0 unexpected',
        f"{path} leaves 2 of the network's tensors at their initial weights "
        '(2 missing: head.* (2): head.weight, head.bias)'
    ]


class NetWithTerm(Net):
    """With a method's own state and a training-only auxiliary head."""

    def __init__(self):
        super().__init__()
        self.auxiliary_head = nn.Conv2d(4, 2, 1)
        self.uda_terms = nn.ModuleList([nn.Linear(1, 1)])


def test_evaluation_needs_every_network_tensor(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(weight_matching, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    state = Net().state_dict()
    del state['head.weight'], state['head.bias']
    state['backbone.2.weight'] = torch.zeros(4, 4, 1, 1)
    path = tmp_path / 'headless.pth'
    torch.save(dict(state_dict=state), path)
    # training's load_from: loads, warning with the keys
    load_checkpoint(NetWithTerm(), str(path))
    assert logged[-1] == (
        f"{path} leaves 5 of the network's tensors at their initial weights "
        '(4 missing: head.* (2), auxiliary_head.* (2): head.weight, '
        'head.bias, auxiliary_head.weight, auxiliary_head.bias; 1 present '
        'with another shape: backbone.2.* (1): backbone.2.weight)')
    with pytest.raises(IncompleteCheckpointError) as err:
        with require_complete_network('evaluation'):
            load_checkpoint(NetWithTerm(), str(path))
    message = str(err.value)
    assert message.startswith(f'Refusing {path} for evaluation: 3 of the '
                              "network's tensors")
    assert '(2 missing: head.* (2): head.weight, head.bias;' in message
    assert 'another shape: backbone.2.* (1): backbone.2.weight' in message
    # the method's own state (uda_terms.*) and the auxiliary head, which no
    # prediction reads, may be missing
    torch.save(dict(state_dict=Net().state_dict()), path)
    with require_complete_network('evaluation'):
        load_checkpoint(NetWithTerm(), str(path))
    # and outside the block loads are partial again
    torch.save(dict(state_dict=state), path)
    load_checkpoint(NetWithTerm(), str(path))


def test_runner_load_from_refuses_an_incompatible_checkpoint(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save(dict(state_dict={'conv.weight': torch.zeros(1)}), path)
    runner = make_runner(tmp_path / 'work', max_iters=1)
    runner._load_from = str(path)
    with pytest.raises(IncompatibleCheckpointError, match='other.pth'):
        runner.train()
    # and one that fits loads, saying so
    good = tmp_path / 'good.pth'
    torch.save(dict(state_dict=ToyModel().state_dict()), good)
    runner = make_runner(tmp_path / 'work2', max_iters=1)
    runner._load_from = str(good)
    runner.train()


def test_pretrained_init_cfg_refuses_an_incompatible_checkpoint(tmp_path):
    from mmengine.model.weight_init import PretrainedInit
    path = tmp_path / 'other.pth'
    torch.save({'conv.weight': torch.zeros(1)}, path)
    with pytest.raises(IncompatibleCheckpointError, match='other.pth'):
        PretrainedInit(checkpoint=str(path))(Net())
    with pytest.raises(IncompatibleCheckpointError, match='other.pth'):
        PretrainedInit(checkpoint=str(path), prefix='conv.')(Net().backbone)
