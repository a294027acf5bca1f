"""Two-domain training dataset: one labelled source and one unlabelled target
sample per index."""
from typing import Dict, Optional, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmseg.registry import DATASETS
from torch.utils.data import Dataset


def _metainfo_difference(source: dict, target: dict) -> Optional[str]:
    """Describe how two domains' class lists differ, or None if they agree."""
    src = list(source.get('classes', ()))
    tgt = list(target.get('classes', ()))
    if src == tgt:
        return None
    only_src = [c for c in src if c not in tgt]
    only_tgt = [c for c in tgt if c not in src]
    if not only_src and not only_tgt:
        return (f'same classes in a different order: source {src}, '
                f'target {tgt}')
    return (f'classes only in the source: {only_src}; '
            f'classes only in the target: {only_tgt}')


@DATASETS.register_module()
class UDADataset(Dataset):
    """Pairs a labelled source dataset with an unlabelled target dataset.

    Index ``i`` returns ``dict(source=source[i % len(source)],
    target=target[j])`` where ``j`` is drawn uniformly at random from the
    target set, so the two domains are shuffled independently while the
    outer sampler (``InfiniteSampler``) controls the source order. The
    length is ``max(len(source), len(target))`` (an epoch visits the larger
    domain once), never their product. The target's labels are never read:
    its pipeline should not contain ``LoadAnnotations``; a target sample
    that still carries a ground-truth map has it removed so no method can
    use it by accident.

    The random target draw uses NumPy's global generator, which MMEngine
    seeds per rank and per dataloader worker (``randomness.seed``), so a run
    is reproducible for a seed.

    Args:
        source (dict | Dataset): Config or instance of the source dataset.
        target (dict | Dataset): Config or instance of the target dataset.
        check_classes (bool): Raise if the two domains' class lists differ.
            Defaults to True.
    """

    def __init__(self,
                 source: Union[dict, Dataset],
                 target: Union[dict, Dataset],
                 check_classes: bool = True) -> None:
        self.source = self._build(source)
        self.target = self._build(target)
        if len(self.source) == 0 or len(self.target) == 0:
            raise ValueError(
                f'UDADataset needs non-empty domains, got {len(self.source)} '
                f'source and {len(self.target)} target samples')
        src_meta = getattr(self.source, 'metainfo', {})
        tgt_meta = getattr(self.target, 'metainfo', {})
        diff = _metainfo_difference(src_meta, tgt_meta)
        if check_classes and diff is not None:
            raise ValueError(
                'UDADataset: the source and target datasets disagree on their '
                f'classes ({diff}). Use the same class setting for both, or '
                'pass check_classes=False.')
        self._metainfo = dict(src_meta)

    @staticmethod
    def _build(cfg: Union[dict, Dataset]) -> Dataset:
        return DATASETS.build(cfg) if isinstance(cfg, dict) else cfg

    @property
    def metainfo(self) -> dict:
        """The source dataset's meta information (classes, palette)."""
        return self._metainfo

    def full_init(self) -> None:
        """Fully initialise both domains (mmengine's lazy-init protocol)."""
        for dataset in (self.source, self.target):
            if isinstance(dataset, BaseDataset):
                dataset.full_init()

    def __len__(self) -> int:
        return max(len(self.source), len(self.target))

    def __getitem__(self, idx: int) -> Dict[str, dict]:
        source = self.source[idx % len(self.source)]
        target = self._target_sample(np.random.randint(len(self.target)))
        return dict(source=source, target=target)

    def _target_sample(self, index: int) -> dict:
        """Target sample ``index``, stripped of any ground truth."""
        target = self.target[index]
        sample = target.get('data_samples')
        if sample is not None and 'gt_sem_seg' in sample:
            del sample.gt_sem_seg
        return target
