"""Rare-class sampling (RCS) of DAFormer (METHODS.md section 7.3)."""
import random
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.logging import print_log
from mmseg.registry import DATASETS
from torch.utils.data import Dataset

from .data_root_check import DataRootError
from .label_conversion import dataset_class_pixels
from .uda_dataset import UDADataset

#: Pixels (full resolution) a class needs in an image for the image to be
#: drawn for that class (strictly more).
MIN_PIXELS = 3000
#: Re-runs of the source pipeline while the crop lacks the drawn class.
MAX_CROP_REDRAWS = 10


def rare_class_probabilities(
        class_pixels: Sequence[Dict[int, int]],
        temperature: float) -> Tuple[np.ndarray, np.ndarray]:
    """The classes RCS draws from and their probabilities.

    ``f_c = n_c / sum_k n_k`` with ``n_c`` the pixels of class ``c`` over
    the whole dataset, ``P(c) = softmax_c((1 - f_c) / T)``.

    Args:
        class_pixels (Sequence[dict[int, int]]): Per image, class id ->
            pixel count.
        temperature (float): T (> 0).

    Returns:
        tuple[np.ndarray, np.ndarray]: The classes with at least one pixel,
        in ascending order of ``n_c`` (ties by id; the release's order,
        which only matters for a draw-exact replay), ``int64``; and their
        probabilities, ``float64``, summing to 1.

    Raises:
        ValueError: If ``temperature <= 0`` or no image has a labelled
            pixel.
    """
    if not temperature > 0:
        raise ValueError(f'rare-class sampling: class_temperature must be '
                         f'> 0, got {temperature}')
    totals: Dict[int, int] = {}
    for counts in class_pixels:
        for c, n in counts.items():
            totals[c] = totals.get(c, 0) + n
    present = sorted((n, c) for c, n in totals.items() if n > 0)
    if not present:
        raise ValueError('rare-class sampling: no image has a labelled pixel')
    classes = np.array([c for _, c in present], dtype=np.int64)
    counts = np.array([n for n, _ in present], dtype=np.float64)
    logits = (1.0 - counts / counts.sum()) / temperature
    weights = np.exp(logits - logits.max())
    return classes, weights / weights.sum()


@contextmanager
def global_rngs_seeded(seed: int) -> Iterator[None]:
    """Seed Python's, NumPy's and torch's CPU global generators, then put
    their states back.

    The MMSeg/MMCV transforms (random crop, flip, resize) draw from these
    global generators; seeding them from a sample's own generator makes
    the sample a function of its index, and restoring them leaves the
    caller's streams (the main process, with ``num_workers=0``) untouched.

    Args:
        seed (int): Seed in ``[0, 2**32)``.
    """
    py_state = random.getstate()
    np_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    random.seed(seed)
    np.random.seed(seed)
    torch.default_generator.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)


@DATASETS.register_module()
class RareClassSampledUDADataset(UDADataset):
    """A source/target pair per index, the source drawn by rare-class
    sampling (DAFormer, METHODS.md section 7.3).

    Sample ``k`` is a pure function of ``(seed, k)``: from
    ``rng = numpy.random.default_rng([seed, k])``

    1. a class ``c ~ P`` (:func:`rare_class_probabilities`: classes in
       ascending order of their dataset pixel count, ``P =
       softmax((1 - f) / T)``);
    2. a source image drawn uniformly among those with more than
       ``min_pixels`` pixels of ``c`` in the full-resolution label (the
       converter's ``class_stats.json``);
    3. the source pipeline runs on it; while the result has at most
       ``min_pixels * min_crop_ratio`` pixels of ``c`` in its (cropped)
       label, the whole pipeline runs again on the same image (a new crop
       and flip), at most ``max_crop_redraws`` times; the last run is
       accepted unchecked (``min_crop_ratio <= 0``: no check);
    4. a target image drawn uniformly, independently of the source (the
       index does not choose it), through the target pipeline.

    The pipelines' own random draws (crop, flip) come from Python's,
    NumPy's and torch's global generators, seeded from ``rng`` for each run
    and restored afterwards (:func:`global_rngs_seeded`). So a sample does
    not depend on the worker that loads it or on what was loaded before,
    and ``--resume`` (which replays the loader up to the resumed iteration)
    continues exactly, with any number of workers.

    The indices must never repeat, or neither would the samples: use
    :class:`~mmseg_uda.datasets.samplers.InfiniteIndexSampler`, which yields
    ``0, 1, 2, ...`` (rank ``r`` of ``W``: ``r, r + W, ...``, so ranks draw
    different samples) and hands the run's seed to the dataset. The
    length, ``len(source)``, only sizes an "epoch" for logging; it is not
    ``len(source) * len(target)`` (the release's, METHODS.md 7.9 #7).

    Each source sample's metainfo gains ``rcs_class`` (the drawn class) and
    ``rcs_pipeline_runs`` (how many times the pipeline ran, 1 to
    ``max_crop_redraws + 1``).

    Args:
        source (dict | Dataset): Config or instance of the labelled source
            dataset; its pipeline must load the labels.
        target (dict | Dataset): Config or instance of the target dataset.
        class_temperature (float): T. Defaults to 0.01.
        min_pixels (int): Full-resolution pixels a class needs in an image
            (strictly more) for the image to be drawn for it. Defaults to
            3000.
        min_crop_ratio (float): The crop is re-drawn while it has at most
            ``min_pixels * min_crop_ratio`` pixels of the class (0.5:
            1,500, DAFormer; 2.0: 6,000, HRDA's 1024 crops). Defaults to 0.5.
        max_crop_redraws (int): Re-runs of the source pipeline at most.
            Defaults to 10.
        stats_file (str, optional): The source's class statistics (format
            version 2); defaults to ``class_stats.json`` in its data root.
        seed (int, optional): Seed of the draws; None takes the sampler's
            (the run's ``randomness.seed``). Defaults to None.
        check_classes (bool): See :class:`UDADataset`. Defaults to True.

    Raises:
        DataRootError: If the statistics are missing, of format version 1,
            counted in another number of classes than the source's, or a
            class present in them has no image with more than
            ``min_pixels`` pixels.
        ValueError: On invalid options.
    """

    def __init__(self,
                 source: Union[dict, Dataset],
                 target: Union[dict, Dataset],
                 class_temperature: float = 0.01,
                 min_pixels: int = MIN_PIXELS,
                 min_crop_ratio: float = 0.5,
                 max_crop_redraws: int = MAX_CROP_REDRAWS,
                 stats_file: Optional[str] = None,
                 seed: Optional[int] = None,
                 check_classes: bool = True) -> None:
        if min_pixels < 0 or max_crop_redraws < 0:
            raise ValueError(
                f'RareClassSampledUDADataset: min_pixels ({min_pixels}) and '
                f'max_crop_redraws ({max_crop_redraws}) must be >= 0')
        super().__init__(source, target, check_classes=check_classes)
        self.min_pixels = min_pixels
        self.min_crop_pixels = min_pixels * min_crop_ratio
        self.check_crops = min_crop_ratio > 0
        self.max_crop_redraws = max_crop_redraws
        self.seed = seed
        self.stats_file, pixels = dataset_class_pixels(
            self.source,
            stats_file,
            require_num_classes=True,
            user='rare-class sampling')
        self.classes, self.probabilities = rare_class_probabilities(
            pixels, class_temperature)
        self.images_of = self._images_per_class(pixels)
        names = self.metainfo.get('classes', ())
        print_log(
            'Rare-class sampling (T = %g, > %d pixels per image): ' %
            (class_temperature, min_pixels) + ', '.join(
                f'{names[c] if c < len(names) else c} {p:.4g} '
                f'({len(self.images_of[c])} images)'
                for c, p in zip(self.classes, self.probabilities)),
            logger='current')

    def _images_per_class(
            self, pixels: List[Dict[int, int]]) -> Dict[int, np.ndarray]:
        images_of = {}
        for c in self.classes.tolist():
            eligible = [
                i for i, counts in enumerate(pixels)
                if counts.get(c, 0) > self.min_pixels
            ]
            images_of[c] = np.array(eligible, dtype=np.int64)
        empty = [c for c, images in images_of.items() if len(images) == 0]
        if empty:
            largest = {
                c: max(counts.get(c, 0) for counts in pixels)
                for c in empty
            }
            raise DataRootError(
                f'rare-class sampling: class(es) {empty} occur in '
                f'{self.stats_file!r} but no image has more than '
                f'{self.min_pixels} pixels of them (largest per image: '
                f'{largest}), so they could be drawn but never loaded. '
                'Lower min_pixels or check the statistics.')
        return images_of

    def set_sample_seed(self, seed: int) -> None:
        """Take the run's seed (called by ``InfiniteIndexSampler``) unless
        the config set one."""
        if self.seed is None:
            self.seed = int(seed)

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, idx: int) -> Dict[str, dict]:
        if self.seed is None:
            raise RuntimeError(
                'RareClassSampledUDADataset has no seed: train it with '
                "sampler=dict(type='InfiniteIndexSampler') (which passes the "
                'run seed and never repeats an index) or give it seed=...')
        if idx < 0:
            raise IndexError(f'RareClassSampledUDADataset: index {idx} < 0')
        rng = np.random.default_rng([self.seed, int(idx)])
        c = int(rng.choice(self.classes, p=self.probabilities))
        images = self.images_of[c]
        source, runs = self._source_with_class(
            int(images[rng.integers(len(images))]), c, rng)
        sample = source.get('data_samples')
        if hasattr(sample, 'set_metainfo'):
            sample.set_metainfo(dict(rcs_class=c, rcs_pipeline_runs=runs))
        j = int(rng.integers(len(self.target)))
        with global_rngs_seeded(int(rng.integers(2**32))):
            target = self._target_sample(j)
        return dict(source=source, target=target)

    def _source_with_class(self, index: int, c: int,
                           rng: np.random.Generator) -> Tuple[dict, int]:
        """Run the source pipeline until the crop shows class ``c``.

        Returns:
            tuple[dict, int]: The accepted sample and the number of runs.
        """
        runs = 0
        while True:
            with global_rngs_seeded(int(rng.integers(2**32))):
                sample = self.source[index]
            runs += 1
            if not self.check_crops or runs > self.max_crop_redraws:
                return sample, runs
            if self.class_pixels(sample, c) > self.min_crop_pixels:
                return sample, runs

    @staticmethod
    def class_pixels(sample: dict, c: int) -> int:
        """Pixels of class ``c`` in a packed sample's label.

        Raises:
            KeyError: If the sample carries no ``gt_sem_seg``.
        """
        data_sample = sample.get('data_samples')
        if data_sample is None or 'gt_sem_seg' not in data_sample:
            raise KeyError(
                'rare-class sampling: the source pipeline must load the '
                'labels (LoadAnnotations) and pack them (PackSegInputs); '
                'its samples have no data_samples.gt_sem_seg')
        return int((data_sample.gt_sem_seg.data == c).sum())
