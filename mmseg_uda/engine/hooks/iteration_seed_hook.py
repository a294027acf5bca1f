"""Seed torch's generator at every training iteration, so that a resumed
run draws the same random numbers as an uninterrupted one."""
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


def iteration_seed(seed: int, iteration: int) -> int:
    """A well-mixed 64-bit seed for one iteration of a run.

    Args:
        seed (int): The run's seed (``runner.seed``; it already includes
            the rank when ``randomness.diff_rank_seed`` is set).
        iteration (int): The 0-based training iteration.

    Returns:
        int: A seed in [0, 2**64).
    """
    state = np.random.SeedSequence([seed % 2**64, iteration])
    return int(state.generate_state(1, np.uint64)[0])


@HOOKS.register_module()
class IterationSeedHook(Hook):
    """Seed torch (CPU and every CUDA device) from (run seed, iteration)
    before every training iteration.

    What a training step draws from torch's global generator (dropout
    masks, e.g. CAG's V3+ decoder) then depends only on the seed and the
    iteration, not on everything drawn before: a ``--resume`` from
    iteration k equals the uninterrupted run exactly, although checkpoints
    store no generator state, and validation or a new DataLoader iterator
    (which draw from the same generator) in between change nothing. The
    data pipeline is unaffected: workers are seeded by mmengine, and the
    sampler and ``--resume``'s replay of the first k batches use their own
    generators.

    The numbers drawn differ from a run seeded once; their distribution
    does not (independent streams per iteration).
    """

    priority = 'HIGHEST'

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        seed = runner.seed if runner.seed is not None else 0
        torch.manual_seed(iteration_seed(seed, runner.iter))
