"""average_buffers: floating-point buffers become the mean over the ranks,
buffers equal on every rank stay bit-exact (a plain sum / 3 would not),
integer buffers are rank 0's (the collectives are simulated for 3 ranks
here; tests/test_engine/test_ddp_training.py runs them for real); and the
run-safety hooks act before the CheckpointHook saves."""
import torch
from mmengine.hooks import CheckpointHook
from mmengine.runner.priority import get_priority

from mmseg_uda.engine.hooks import average_buffers_hook
from mmseg_uda.engine.hooks.average_buffers_hook import (AverageBuffersHook,
                                                         average_buffers)
from mmseg_uda.engine.hooks.checkpoint_schedule import checkpoint_due
from mmseg_uda.engine.hooks.non_finite_loss_hook import NonFiniteLossHook

SAME = 5 / 7.  # float32: (x + x + x) / 3 != x


def simulate_ranks(monkeypatch, ranks):
    """Run average_buffers as rank 0 of ``len(ranks)`` ranks whose flat
    buffers (per dtype, in call order) are ``ranks[r]``."""
    calls = iter(range(100))
    current = {}

    def broadcast(tensor, src=0):
        current['group'] = next(calls)
        tensor.copy_(ranks[0][current['group']])

    def all_reduce(tensor, op='sum'):
        assert op == 'sum'
        group = current['group']
        reference = ranks[0][group]
        tensor.zero_()
        for values in ranks:
            tensor.add_(values[group] - reference)

    monkeypatch.setattr(average_buffers_hook, 'get_world_size',
                        lambda: len(ranks))
    monkeypatch.setattr(average_buffers_hook, 'broadcast', broadcast)
    monkeypatch.setattr(average_buffers_hook, 'all_reduce', all_reduce)


def test_average_buffers_of_three_ranks(monkeypatch):
    same = torch.full((4, ), SAME)
    assert not torch.equal((same + same + same) / 3, same)
    # rank r: float32 buffers [r, 10 + r] and SAME; int64 counter 7 + r
    ranks = [[torch.cat([torch.tensor([1.0 * r, 10.0 + r]), same]),
              torch.tensor([7 + r])] for r in range(3)]
    simulate_ranks(monkeypatch, ranks)
    different = torch.tensor([0.0, 10.0])
    mine = same.clone()
    counter = torch.tensor(7)
    average_buffers([different, mine, counter])
    torch.testing.assert_close(different, torch.tensor([1.0, 11.0]))
    assert torch.equal(mine, same)  # bit-exact
    assert counter.item() == 7


def test_one_process_is_left_alone():
    buf = torch.tensor([1.5])
    average_buffers([buf])  # no process group: nothing to do
    assert buf.item() == 1.5


class FakeRunner:

    def __init__(self, hooks, iteration, max_iters):
        self.hooks, self.iter, self.max_iters = hooks, iteration, max_iters
        self.logger = self
        self.saved = []

    def info(self, message):
        pass


def saves_of(hook, max_iters=10):
    """Iterations (1-based) at which the CheckpointHook saves and those at
    which checkpoint_due says it will."""
    saved, due = [], []
    hook._save_checkpoint = lambda runner: saved.append(runner.iter + 1)
    for it in range(max_iters):
        runner = FakeRunner([hook], it, max_iters)
        if checkpoint_due(runner):
            due.append(it + 1)
        hook.after_train_iter(runner, it)
    return saved, due


def test_checkpoint_due_follows_the_checkpoint_hooks():
    for hook in (CheckpointHook(interval=3, by_epoch=False, save_last=True),
                 CheckpointHook(interval=4, by_epoch=False, save_last=False,
                                save_begin=2),
                 CheckpointHook(interval=1, by_epoch=True)):
        saved, due = saves_of(hook)
        assert due == saved
    assert saves_of(CheckpointHook(interval=3, by_epoch=False))[1] == [
        3, 6, 9, 10]


def test_hooks_act_before_the_checkpoint_hook_saves():
    order = [get_priority(h.priority) for h in (
        NonFiniteLossHook(), AverageBuffersHook(),
        CheckpointHook(interval=1))]
    assert order == sorted(order) and len(set(order)) == 3
