"""An endless sampler of never-repeating indices, for datasets whose
sample ``k`` is drawn from ``(seed, k)``."""
import itertools
from typing import Iterator, Optional, Sized

from mmengine.dist import get_dist_info, sync_random_seed
from mmseg.registry import DATA_SAMPLERS
from torch.utils.data import Sampler


@DATA_SAMPLERS.register_module()
class InfiniteIndexSampler(Sampler):
    """Yields ``0, 1, 2, ...`` without end, split between ranks.

    Rank ``r`` of ``W`` yields ``r, r + W, r + 2W, ...``: the ranks
    together visit the global stream once, and a dataset that draws sample
    ``k`` from ``(seed, k)`` (:class:`RareClassSampledUDADataset`) gives
    every rank different samples and the same samples for any ``W``. The
    stream is a function of the position only, so ``--resume`` (MMEngine
    advances the loader past the iterations already trained) continues it
    exactly. A dataset with ``set_sample_seed`` gets the sampler's seed
    (the run's ``randomness.seed``) at construction, before any worker
    starts.

    Args:
        dataset (Sized): The dataset; its length is reported as this
            sampler's (MMEngine's loops only log it).
        seed (int, optional): Seed handed to the dataset; None draws one
            shared by all ranks. Defaults to None.
        shuffle (bool): Accepted so that a config can replace the bases'
            ``dict(type='InfiniteSampler', shuffle=True)`` by changing only
            the type; must be True (the dataset draws at random). Defaults
            to True.
    """

    def __init__(self,
                 dataset: Sized,
                 seed: Optional[int] = None,
                 shuffle: bool = True) -> None:
        if not shuffle:
            raise ValueError('InfiniteIndexSampler: the dataset draws its '
                             'samples at random; shuffle=False is not '
                             'supported')
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.size = len(dataset)
        self.seed = sync_random_seed() if seed is None else seed
        if hasattr(dataset, 'set_sample_seed'):
            dataset.set_sample_seed(self.seed)

    def __iter__(self) -> Iterator[int]:
        return itertools.count(self.rank, self.world_size)

    def __len__(self) -> int:
        return self.size

    def set_epoch(self, epoch: int) -> None:
        """Unused: the stream does not restart with epochs."""
