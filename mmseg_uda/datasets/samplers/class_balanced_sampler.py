"""Class-balanced source sampling as FADA does it (METHODS.md section 3)."""
from typing import Iterator, List, Optional, Sequence, Sized

import numpy as np
from mmengine.dataset import InfiniteSampler
from mmseg.registry import DATA_SAMPLERS

from ..label_conversion import dataset_class_pixels

# Weight of class c: 1 / log(SMOOTHING + f_c).
SMOOTHING = 1.01
# The release zeroes its class counts after every this many draws.
RESET_INTERVAL = 3000
PROTOCOLS = ('release', 'running_share')


def class_weights(drawn: np.ndarray, num_drawn: int,
                  available: np.ndarray) -> np.ndarray:
    """Unnormalised probability of picking each class next.

    Args:
        drawn (np.ndarray): Count of each class, shape (C, ).
        num_drawn (int): The denominator of the shares: the sum of the
            counts (release) or the number of images drawn
            (``running_share``).
        available (np.ndarray): Whether any image contains each class,
            shape (C, ), bool.

    Returns:
        np.ndarray: ``1 / log(1.01 + f_c)`` with ``f_c = drawn_c /
        num_drawn`` (0 while ``num_drawn`` is 0), 0 for unavailable
        classes; shape (C, ), ``float64``.
    """
    share = drawn / num_drawn if num_drawn else np.zeros(len(drawn))
    return np.where(available, 1.0 / np.log(SMOOTHING + share), 0.0)


def _members(image_classes: Sequence[np.ndarray],
             num_classes: int) -> List[List[int]]:
    members: List[List[int]] = [[] for _ in range(num_classes)]
    for index, classes in enumerate(image_classes):
        for c in classes:
            members[c].append(index)
    if not any(members):
        raise ValueError('class-balanced sampling needs images with at least '
                         'one labelled class; none has any')
    return members


def _pick(rng: np.random.Generator, weights: np.ndarray,
          last_available: int) -> int:
    cdf = np.cumsum(weights)
    # 'right': classes of zero weight (equal cumulative values) are never
    # picked; the min guards u * total rounding up to the total.
    return min(
        int(np.searchsorted(cdf, rng.random() * cdf[-1], side='right')),
        last_available)


def class_balanced_indices(image_classes: Sequence[np.ndarray],
                           num_classes: int,
                           seed: int,
                           reset_interval: int = RESET_INTERVAL
                           ) -> Iterator[int]:
    """Infinite class-balanced stream of image indices, as FADA's release.

    With ``rng = np.random.default_rng(seed)``, ``list_c`` the images
    containing class ``c`` in stored (increasing) order, ``pos_c = 0`` and
    ``count_c = 0``, each draw:

    1. ``u = rng.random()`` picks the class whose interval of the
       cumulative :func:`class_weights` (shares ``count_c / sum(count)``, 0
       while all counts are 0) contains ``u * total weight``;
    2. yields ``list_c[pos_c]`` and adds 1 to the count of every class of
       that image; ``pos_c += 1``;
    3. when ``pos_c`` reaches ``n = len(list_c)`` (the list wrapped):
       ``list_c = rng.permutation(list_c)`` and ``pos_c = n % (n - 1)``
       (1 for n >= 3, 0 for n = 2; 0 for n = 1, where the release's
       ``n % 0`` is undefined);
    4. after every ``reset_interval`` draws all counts return to 0.

    So each list is walked in stored order until its first wrap, and
    every later pass skips the reshuffled list's first entry.

    Args:
        image_classes (Sequence[np.ndarray]): The classes present in each
            image (integer ids in ``[0, num_classes)``).
        num_classes (int): Number of classes C.
        seed (int): Seed of the generator.
        reset_interval (int): Draws between count resets. Defaults to
            3000.

    Yields:
        int: Image indices.

    Raises:
        ValueError: If no image contains any class.
    """
    rng = np.random.default_rng(seed)
    lists = _members(image_classes, num_classes)
    available = np.array([bool(m) for m in lists])
    last_available = int(np.flatnonzero(available)[-1])
    positions = [0] * num_classes
    counts = np.zeros(num_classes, dtype=np.int64)
    num_drawn = 0
    while True:
        c = _pick(rng, class_weights(counts, int(counts.sum()), available),
                  last_available)
        index = int(lists[c][positions[c]])
        counts[image_classes[index]] += 1
        positions[c] += 1
        n = len(lists[c])
        if positions[c] == n:
            lists[c] = list(rng.permutation(lists[c]))
            positions[c] = n % (n - 1) if n > 1 else 0
        num_drawn += 1
        if num_drawn % reset_interval == 0:
            counts[:] = 0
        yield index


def running_share_indices(image_classes: Sequence[np.ndarray],
                          num_classes: int, seed: int) -> Iterator[int]:
    """The ``running_share`` option: METHODS.md's wording, not the release.

    With ``rng = np.random.default_rng(seed)``:

    1. for every class ``c`` in increasing order that some image contains,
       ``order_c = rng.permutation(images containing c)`` (increasing
       indices before the permutation);
    2. each step draws ``u = rng.random()`` and picks the class whose
       interval of the cumulative :func:`class_weights` (shares = images
       drawn containing c / images drawn, never reset) contains ``u *
       total weight``; yields the next image of ``order_c`` (cycling
       through the same order) and counts every class of that image as
       drawn once more.

    Args:
        image_classes (Sequence[np.ndarray]): The classes present in each
            image (integer ids in ``[0, num_classes)``).
        num_classes (int): Number of classes C.
        seed (int): Seed of the generator.

    Yields:
        int: Image indices.

    Raises:
        ValueError: If no image contains any class.
    """
    rng = np.random.default_rng(seed)
    members = _members(image_classes, num_classes)
    available = np.array([bool(m) for m in members])
    orders = [rng.permutation(m) if m else None for m in members]
    positions = np.zeros(num_classes, dtype=np.int64)
    last_available = int(np.flatnonzero(available)[-1])
    drawn = np.zeros(num_classes, dtype=np.int64)
    num_drawn = 0
    while True:
        c = _pick(rng, class_weights(drawn, num_drawn, available),
                  last_available)
        order = orders[c]
        index = int(order[positions[c] % len(order)])
        positions[c] += 1
        drawn[image_classes[index]] += 1
        num_drawn += 1
        yield index


def image_classes_from_stats(dataset,
                             stats_file: Optional[str] = None,
                             min_pixels: int = 1) -> List[np.ndarray]:
    """The classes present in each image of a labelled dataset.

    Read from the per-image class statistics the converter wrote
    (:func:`~mmseg_uda.datasets.label_conversion.dataset_class_pixels`).

    Args:
        dataset (BaseSegDataset): The (source) dataset, with
            ``seg_map_path`` in every data info and ``classes`` in its
            ``metainfo``.
        stats_file (str, optional): The statistics; defaults to
            ``class_stats.json`` in the dataset's ``data_root``.
        min_pixels (int): A class is present with at least this many
            pixels. Defaults to 1.

    Returns:
        list[np.ndarray]: Class ids (``int64``, increasing) per image.

    Raises:
        DataRootError: If the statistics are missing or lack an image,
            naming the file and the converter command.
        ValueError: If the dataset has no labels.
    """
    _, pixels = dataset_class_pixels(
        dataset, stats_file, user='class-balanced sampling')
    return [
        np.array(
            sorted(c for c, n in counts.items() if n >= min_pixels),
            dtype=np.int64) for counts in pixels
    ]


@DATA_SAMPLERS.register_module()
class ClassBalancedSampler(InfiniteSampler):
    """Infinite sampler that draws source images class-balanced (FADA).

    Each step picks a class ``c`` with probability proportional to
    ``1 / log(1.01 + f_c)`` and yields the next image containing ``c``;
    the classes of an image are read from the converter's
    ``class_stats.json``. The default ``protocol='release'`` is FADA's
    released sampler (:func:`class_balanced_indices`): ``f_c = count_c /
    sum(counts)``, counts reset every 3,000 draws, each class's list
    walked in stored order until its first wrap, then reshuffled and
    restarted at index ``n % (n - 1)``. ``protocol='running_share'``
    (:func:`running_share_indices`) is METHODS.md's wording: ``f_c`` = share
    of all images drawn so far that contain ``c``, never reset, per-class
    lists shuffled once and cycled.

    Works with a :class:`UDADataset` (balancing its source) or a plain
    labelled dataset. ``UDADataset`` returns ``source[i % len(source)]`` at
    index ``i`` and draws its target independently, so the yielded indices
    are source indices (all ``< len(source) <= len(UDADataset)``).

    Like :class:`InfiniteSampler`, one global stream is generated from the
    seed on every rank and rank ``r`` of ``W`` takes its elements ``r,
    r + W, ...``: the ranks' streams are disjoint and the balancing runs
    over all ranks' draws together. The stream (counts, list positions and
    reshuffles included) is a pure function of the seed, so resuming is
    exact: MMEngine's ``IterBasedTrainLoop`` skips the batches already
    trained by advancing the data loader, which replays the same draws and
    so rebuilds the sampler's state (the seed is the runner's
    ``randomness.seed``, fixed in ``default_runtime.py``).

    Args:
        dataset (Sized): A ``UDADataset`` or labelled dataset.
        seed (int, optional): Random seed; None draws one shared by all
            ranks. Defaults to None.
        stats_file (str, optional): The class statistics; defaults to
            ``class_stats.json`` in the (source) dataset's ``data_root``.
        min_pixels (int): Pixels a class needs in an image to count as
            present. Defaults to 1.
        shuffle (bool): Accepted so that a config can replace the bases'
            ``dict(type='InfiniteSampler', shuffle=True)`` by changing only
            the type; must be True. Defaults to True.
        protocol (str): 'release' (default) or 'running_share'.
        reset_interval (int): Draws between count resets ('release').
            Defaults to 3000.
    """

    def __init__(self,
                 dataset: Sized,
                 seed: Optional[int] = None,
                 stats_file: Optional[str] = None,
                 min_pixels: int = 1,
                 shuffle: bool = True,
                 protocol: str = 'release',
                 reset_interval: int = RESET_INTERVAL) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f'ClassBalancedSampler: protocol must be one of '
                             f'{PROTOCOLS}, got {protocol!r}')
        if reset_interval < 1:
            raise ValueError(f'ClassBalancedSampler: reset_interval must be '
                             f'>= 1, got {reset_interval}')
        self.protocol = protocol
        self.reset_interval = reset_interval
        if not shuffle:
            raise ValueError('ClassBalancedSampler draws at random; '
                             'shuffle=False is not supported')
        if min_pixels < 1:
            raise ValueError(
                f'ClassBalancedSampler: min_pixels must be >= 1, got '
                f'{min_pixels}')
        self.source = getattr(dataset, 'source', dataset)
        self.image_classes = image_classes_from_stats(self.source, stats_file,
                                                      min_pixels)
        self.num_classes = len(self.source.metainfo['classes'])
        super().__init__(dataset, shuffle=True, seed=seed)

    def _infinite_indices(self) -> Iterator[int]:
        """The global class-balanced stream (sliced per rank by the base)."""
        if self.protocol == 'running_share':
            yield from running_share_indices(self.image_classes,
                                             self.num_classes, self.seed)
        else:
            yield from class_balanced_indices(self.image_classes,
                                              self.num_classes, self.seed,
                                              self.reset_interval)
