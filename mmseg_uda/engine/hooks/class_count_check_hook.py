"""Refuse a run whose model predicts another number of classes than its
datasets have, naming the config keys."""
from typing import Iterator, List, Tuple

from mmengine.hooks import Hook
from mmengine.runner import BaseLoop
from mmseg.registry import HOOKS
from torch import nn

from .checkpoint_schedule import unwrap_model

# Runner attribute of each loop -> the config key of its dataloader.
_LOOPS = (('_train_loop', 'train_dataloader'), ('_val_loop', 'val_dataloader'),
          ('_test_loop', 'test_dataloader'))


class ClassCountError(ValueError):
    """The model's and a dataset's numbers of classes differ."""


def head_class_counts(model: nn.Module) -> List[Tuple[str, int]]:
    """``num_classes`` of every segmentation head, keyed as in the config.

    Args:
        model (nn.Module): ``runner.model`` (DDP and TTA wrappers are
            looked through).

    Returns:
        list[tuple[str, int]]: E.g. ``[('model.decode_head.num_classes',
        19)]``.
    """
    segmentor = unwrap_model(model)
    counts = []
    for attr in ('decode_head', 'auxiliary_head'):
        head = getattr(segmentor, attr, None)
        if head is None:
            continue
        heads = (list(enumerate(head)) if isinstance(head, nn.ModuleList)
                 else [(None, head)])
        for index, one in heads:
            num = getattr(one, 'num_classes', None)
            if isinstance(num, int):
                where = '' if index is None else f'[{index}]'
                counts.append((f'model.{attr}{where}.num_classes', num))
    return counts


def dataset_class_counts(dataset,
                         key: str) -> Iterator[Tuple[str, str, int]]:
    """Class count of every dataset inside ``dataset``.

    Looks into ``UDADataset`` (``.source``, ``.target``), concatenations
    (``.datasets[i]``) and dataset wrappers (``.dataset``).

    Args:
        dataset: A built dataset.
        key (str): Its config key, e.g. ``'val_dataloader.dataset'``.

    Yields:
        tuple[str, str, int]: Config key, description (type and data
        root) and number of classes of each dataset with ``classes`` in
        its ``metainfo``.
    """
    if hasattr(dataset, 'source') and hasattr(dataset, 'target'):
        yield from dataset_class_counts(dataset.source, f'{key}.source')
        yield from dataset_class_counts(dataset.target, f'{key}.target')
        return
    if isinstance(getattr(dataset, 'datasets', None), (list, tuple)):
        for index, part in enumerate(dataset.datasets):
            yield from dataset_class_counts(part, f'{key}.datasets[{index}]')
        return
    if hasattr(dataset, 'dataset'):  # RepeatDataset and the like
        yield from dataset_class_counts(dataset.dataset, f'{key}.dataset')
        return
    classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
    if classes:
        root = getattr(dataset, 'data_root', None)
        where = f", data_root={root!r}" if root else ''
        yield key, f'{type(dataset).__name__}{where}', len(classes)


def check_class_counts(runner) -> None:
    """Raise unless every head and every built dataset agree.

    Args:
        runner (Runner): A runner whose loops of the current stage are
            built.

    Raises:
        ClassCountError: Naming every disagreeing pair of config keys.
    """
    heads = head_class_counts(runner.model)
    if not heads:
        return
    problems = []
    for attr, loader_key in _LOOPS:
        loop = getattr(runner, attr, None)
        if not isinstance(loop, BaseLoop):  # not built for this stage
            continue
        dataset = getattr(loop.dataloader, 'dataset', None)
        for key, what, num in dataset_class_counts(dataset,
                                                   f'{loader_key}.dataset'):
            for head_key, head_num in heads:
                if head_num != num:
                    problems.append(f'{head_key}={head_num} but {key} '
                                    f'({what}) has {num} classes')
    if problems:
        raise ClassCountError(
            'The model and the data disagree on the number of classes: ' +
            '; '.join(problems) + '. Make them equal (the head\'s '
            'num_classes, or the dataset\'s class setting, e.g. its '
            'num_classes); otherwise training fails on an out-of-range '
            'target or evaluation silently scores the wrong classes.')


@HOOKS.register_module()
class ClassCountCheckHook(Hook):
    """Check the heads' ``num_classes`` against every dataset of the run
    when it starts.

    Runs in ``before_run``, when the runner has built the dataloaders of
    the stage (training: train and validation sets; ``tools/test.py``: the
    test set) and before any weights are loaded or any step is taken. Each
    head (``model.decode_head``, ``model.auxiliary_head``) must predict as
    many classes as each dataset has (``metainfo['classes']``, both domains
    of a ``UDADataset``).

    Raises:
        ClassCountError: Naming the config keys and both numbers, e.g.
            ``model.decode_head.num_classes=19 but val_dataloader.dataset
            (CityscapesUDADataset, data_root='data/cityscapes') has 16
            classes``.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        """Compare the class counts of the model and the datasets."""
        check_class_counts(runner)
