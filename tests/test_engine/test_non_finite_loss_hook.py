"""NonFiniteLossHook: a diverging run stops at its first non-finite loss
with the last finite checkpoint intact, or skips the step leaving the model
unchanged."""
import itertools
import re

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

import mmseg_uda  # noqa: F401
from mmseg_uda.engine.hooks import NonFiniteLossError, NonFiniteLossHook
from mmseg_uda.models.uda import HoldsNetworks

_RUN_IDS = itertools.count()


class BNToy(BaseModel):
    """Linear layer behind a BatchNorm (buffers), two loss terms."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.bn = nn.BatchNorm1d(2)
        self.linear = nn.Linear(2, 1)
        self.head = nn.Linear(1, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        out = self.head(self.linear(self.bn(torch.stack(inputs))))
        if mode != 'loss':
            return out
        targets = torch.stack(targets)
        return dict(
            loss_a=(out**2).mean() * 1e-3,
            loss_b=((out - targets)**2).mean(),
            acc=torch.tensor(float('nan')))  # not a loss: never checked


class ToyData(Dataset):
    """Sample ``i`` has input ``(i, -i)``; ``nan_at`` samples a NaN
    target."""

    def __init__(self, nan_at=()):
        self.nan_at = set(nan_at)

    def __len__(self):
        return 64

    def __getitem__(self, i):
        target = float('nan') if i in self.nan_at else 1.0
        return dict(inputs=torch.tensor([float(i % 7), -float(i % 5)]),
                    targets=torch.tensor([target]))


class StateRecorder(Hook):
    """Copies weights, buffers and optimiser state after every
    iteration."""

    priority = 'LOWEST'

    def __init__(self):
        self.states = {}

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        model = runner.model
        self.states[runner.iter + 1] = dict(
            model={k: v.clone() for k, v in model.state_dict().items()},
            optim=str(runner.optim_wrapper.state_dict()),
            outputs=dict(outputs))


class SourceFirstToy(BNToy):
    """Back-propagates ``loss_a`` during the forward pass, as
    UDAEncoderDecoder's ``backward_per_domain`` does with the source
    losses."""

    def forward(self, inputs, targets=None, mode='tensor'):
        losses = super().forward(inputs, targets, mode)
        if mode != 'loss':
            return losses
        total, _ = self.parse_losses(dict(loss_a=losses['loss_a']))
        total.backward(retain_graph=True)  # loss_b shares the graph
        losses['loss_a'] = losses['loss_a'].detach()
        return losses


def make_runner(work_dir, nan_at=(), lr=0.01, max_iters=6, hook=None,
                optim_wrapper=None, resume=False, model=None):
    # batch 2, no shuffling: iteration n (1-based) sees samples 2n-2, 2n-1
    return Runner(
        model=model or BNToy(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyData(nan_at),
            sampler=dict(type='InfiniteSampler', shuffle=False),
            batch_size=2,
            collate_fn=dict(type='pseudo_collate')),
        optim_wrapper=optim_wrapper or dict(
            optimizer=dict(type='SGD', lr=lr, momentum=0.9)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1,
                            by_epoch=False),
            logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[hook or NonFiniteLossHook()],
        resume=resume,
        randomness=dict(seed=0),
        default_scope='mmseg',  # MultiOptimWrapperConstructor is there
        experiment_name=f'non_finite_{next(_RUN_IDS)}')


def load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


def finite_checkpoints(work_dir):
    """{iteration: all weights finite} of every saved checkpoint."""
    result = {}
    for path in work_dir.glob('iter_*.pth'):
        state = load(path)['state_dict']
        result[int(path.stem.split('_')[1])] = all(
            torch.isfinite(v).all() for v in state.values()
            if v.is_floating_point())
    return result


def test_nan_loss_stops_before_the_update(tmp_path):
    runner = make_runner(tmp_path, nan_at=[4])  # sample 4: iteration 3
    recorder = StateRecorder()
    runner.register_hook(recorder)
    with pytest.raises(NonFiniteLossError) as err:
        runner.train()
    message = str(err.value)
    assert 'iteration 3 (of 6)' in message
    assert 'loss_b=nan' in message
    assert 'loss_a' not in message and 'acc' not in message
    # iterations 1, 2 were saved; nothing of iteration 3
    assert finite_checkpoints(tmp_path) == {1: True, 2: True}
    # the weights are still those of iteration 2 (no step was taken)
    saved = load(tmp_path / 'iter_2.pth')['state_dict']
    for key, value in runner.model.state_dict().items():
        if key.startswith(('linear', 'head')):
            torch.testing.assert_close(value, saved[key])


def test_huge_learning_rate_keeps_the_last_finite_checkpoint(tmp_path):
    runner = make_runner(tmp_path, lr=1e6, max_iters=40)
    with pytest.raises(NonFiniteLossError) as err:
        runner.train()
    stopped = int(re.search(r'iteration (\d+) ', str(err.value)).group(1))
    saved = finite_checkpoints(tmp_path)
    assert stopped > 1 and saved, str(err.value)
    # every checkpoint holds finite weights, up to the one before the stop
    assert all(saved.values())
    assert max(saved) == stopped - 1


class GradRecorder(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.grads = {}

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.grads[runner.iter + 1] = [
            None if p.grad is None else p.grad.clone()
            for p in runner.model.parameters()
        ]


def test_skip_clears_gradients_of_an_earlier_backward(tmp_path):
    hook = NonFiniteLossHook(action='skip')
    runner = make_runner(tmp_path, nan_at=[4], hook=hook,
                         model=SourceFirstToy())
    recorder, grads = StateRecorder(), GradRecorder()
    runner.register_hook(recorder)
    runner.register_hook(grads)
    runner.train()
    assert hook.skipped == 1  # checked twice in the step, counted once
    assert_same(recorder.states[3]['model'], recorder.states[2]['model'])
    # loss_a's gradient of the skipped step does not leak into the next
    assert all(g is None or not g.any() for g in grads.grads[3])


class SetWeightToInf(Hook):
    """An update that made a weight infinite (an infinite gradient)."""

    priority = 'NORMAL'  # before NonFiniteLossHook's BELOW_NORMAL

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == 2:
            with torch.no_grad():
                runner.model.linear.weight[0, 0] = float('inf')


def test_non_finite_weights_are_never_saved(tmp_path):
    runner = make_runner(tmp_path)
    runner.register_hook(SetWeightToInf())
    with pytest.raises(NonFiniteLossError) as err:
        runner.train()
    message = str(err.value)
    assert 'iteration 2 (of 6)' in message and 'linear.weight' in message
    assert finite_checkpoints(tmp_path) == {1: True}


class HeldToy(BNToy):
    """BNToy with a network held outside the module tree (as DACS's
    teacher)."""

    def __init__(self):
        super().__init__()
        self.term = type('Holder', (HoldsNetworks, nn.Module), {})()
        self.term.hold('teacher', nn.Linear(2, 1))


class SetHeldWeightToInf(Hook):
    priority = 'NORMAL'

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == 2:
            with torch.no_grad():
                runner.model.term.held('teacher').weight[0, 0] = float('inf')


def test_non_finite_held_network_weights_are_never_saved(tmp_path):
    runner = make_runner(tmp_path, model=HeldToy())
    runner.register_hook(SetHeldWeightToInf())
    with pytest.raises(NonFiniteLossError, match=r'term\.teacher\.weight'):
        runner.train()
    assert finite_checkpoints(tmp_path) == {1: True}
    assert 'term.teacher.weight' in load(tmp_path / 'iter_1.pth')[
        'state_dict']


def assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=key)


def test_skip_leaves_weights_buffers_and_optimizer_unchanged(tmp_path):
    hook = NonFiniteLossHook(action='skip')
    runner = make_runner(tmp_path, nan_at=[4], hook=hook)
    recorder = StateRecorder()
    runner.register_hook(recorder)
    runner.train()
    states = recorder.states
    assert runner.iter == 6 and hook.skipped == 1
    # iteration 3 skipped: parameters, BN running stats, num_batches_tracked
    # and the momentum buffers are those after iteration 2
    assert_same(states[3]['model'], states[2]['model'])
    assert states[3]['optim'] == states[2]['optim']
    assert not torch.equal(states[4]['model']['linear.weight'],
                           states[3]['model']['linear.weight'])
    assert not torch.equal(states[4]['model']['bn.running_mean'],
                           states[3]['model']['bn.running_mean'])
    # the skipped step's non-finite values are not logged
    assert 'loss_b' not in states[3]['outputs']
    assert 'loss_b' in states[4]['outputs']
    assert all(finite_checkpoints(tmp_path).values())
    # the counters are checkpointed (in the message hub)
    hub = load(tmp_path / 'iter_6.pth')['message_hub']
    assert hub['runtime_info']['non_finite_loss'] == dict(skipped=1,
                                                          consecutive=0)


def test_skip_gives_up_after_consecutive_failures(tmp_path):
    hook = NonFiniteLossHook(action='skip', max_consecutive_skips=2)
    # iterations 2, 3, 4 are all non-finite
    runner = make_runner(tmp_path, nan_at=[2, 4, 6], hook=hook)
    with pytest.raises(NonFiniteLossError, match=r'iteration 4 .*3 '
                       r'non-finite steps in a row'):
        runner.train()
    assert hook.skipped == 2


def test_resume_restores_the_skip_counters(tmp_path):
    first = make_runner(tmp_path, nan_at=[4], max_iters=3,
                        hook=NonFiniteLossHook(action='skip'))
    first.train()
    hook = NonFiniteLossHook(action='skip')
    resumed = make_runner(tmp_path, nan_at=[4], max_iters=4, hook=hook,
                          resume=True)
    resumed.train()
    assert resumed.iter == 4
    assert hook.skipped == 1 and hook.consecutive == 0


def test_skip_with_multi_optim_wrapper(tmp_path):
    optim_wrapper = dict(
        constructor='MultiOptimWrapperConstructor',
        main=dict(type='OptimWrapper',
                  optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        head=dict(type='OptimWrapper',
                  optimizer=dict(type='Adam', lr=0.01), modules=['head']))
    hook = NonFiniteLossHook(action='skip')
    runner = make_runner(tmp_path, nan_at=[4], hook=hook,
                         optim_wrapper=optim_wrapper)
    recorder = StateRecorder()
    runner.register_hook(recorder)
    runner.train()
    assert type(runner.optim_wrapper).__name__ == 'MultiOptimWrapper'
    assert_same(recorder.states[3]['model'], recorder.states[2]['model'])
    assert recorder.states[3]['optim'] == recorder.states[2]['optim']
    assert not torch.equal(recorder.states[4]['model']['head.weight'],
                           recorder.states[3]['model']['head.weight'])
    # the methods are given back after training
    assert 'update_params' not in vars(runner.optim_wrapper)
    assert 'parse_losses' not in vars(runner.model)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="'stop', 'skip'"):
        NonFiniteLossHook(action='ignore')
    with pytest.raises(ValueError, match='max_consecutive_skips'):
        NonFiniteLossHook(action='skip', max_consecutive_skips=0)
