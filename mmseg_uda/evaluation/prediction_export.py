"""Prediction PNGs for other evaluators and benchmark servers.

Two formats, each named in the file names and in a sidecar
(``prediction_format.json``) so that a file is never fed to the wrong
evaluator:

- ``'train_ids'``: the model's class indices (0..C-1 of the dataset's class
  list), ``<stem>_predTrainIds.png``; for our own tools and for re-scoring
  with :class:`UDAIoUMetric`-style code.
- ``'cityscapes_label_ids'``: Cityscapes label ids (7 road, 8 sidewalk, ...,
  33 bicycle; METHODS.md section 0), ``<stem>_predLabelIds.png``; what
  cityscapesscripts' ``evalPixelLevelSemanticLabeling`` and the Cityscapes
  benchmark server read. 19-, 16- and 13-class models alike: each class is
  written as its Cityscapes label id, and a class outside the metric's
  ``eval_classes`` as 0 (void), which the Cityscapes evaluator counts as a
  miss, as :class:`UDAIoUMetric` does.

``<stem>`` is the image's file stem without Cityscapes' ``_leftImg8bit``,
e.g. ``frankfurt_000000_000294_predLabelIds.png``, which matches the
``<city>_<seq>_<frame>*.png`` pattern cityscapesscripts searches for.
"""
import json
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np

from ..datasets.class_tables import (CITYSCAPES_CLASSES,
                                     CITYSCAPES_ID_TO_TRAINID)
from ..datasets.label_conversion import write_label_atomic
from ..utils.atomic_write import atomic_write_bytes

SUFFIXES: Dict[str, str] = {
    'train_ids': '_predTrainIds.png',
    'cityscapes_label_ids': '_predLabelIds.png',
}
DESCRIPTIONS: Dict[str, str] = {
    'train_ids': 'class index of the dataset class list (not Cityscapes '
    'label ids: do not feed these to cityscapesscripts)',
    'cityscapes_label_ids': 'Cityscapes label ids (labels.py "id"), '
    '0 = void for classes that are not evaluated; for cityscapesscripts '
    'evalPixelLevelSemanticLabeling and the Cityscapes benchmark server',
}
SIDECAR = 'prediction_format.json'
VOID_LABEL_ID = 0
_TRAINID_TO_LABEL_ID = {t: i for i, t in CITYSCAPES_ID_TO_TRAINID.items()}


def check_format(output_format: str) -> str:
    """Return ``output_format`` if known, else raise a ValueError."""
    if output_format not in SUFFIXES:
        raise ValueError(f'prediction output_format must be one of '
                         f'{list(SUFFIXES)}, got {output_format!r}')
    return output_format


def value_table(classes: Sequence[str], output_format: str,
                evaluated: Optional[Sequence[str]] = None) -> np.ndarray:
    """The value written for each class index.

    Args:
        classes (Sequence[str]): The dataset's class names, in index order.
        output_format (str): ``'train_ids'`` or ``'cityscapes_label_ids'``.
        evaluated (Sequence[str], optional): Names of the evaluated classes;
            the others are written as void (0) in Cityscapes label ids.
            Defaults to None (all).

    Returns:
        np.ndarray: ``uint8`` (len(classes), ): ``out = table[pred]``.

    Raises:
        ValueError: If a class has no Cityscapes label id (e.g. the 7
            depth-method categories).
    """
    check_format(output_format)
    if output_format == 'train_ids':
        return np.arange(len(classes), dtype=np.uint8)
    unknown = [name for name in classes if name not in CITYSCAPES_CLASSES]
    if unknown:
        raise ValueError(
            f'cannot export classes {unknown} in Cityscapes label ids: only '
            f'the 19 Cityscapes classes have one ({list(CITYSCAPES_CLASSES)})'
            "; use output_format='train_ids'")
    evaluated = set(classes if evaluated is None else evaluated)
    return np.array([
        _TRAINID_TO_LABEL_ID[CITYSCAPES_CLASSES.index(name)]
        if name in evaluated else VOID_LABEL_ID for name in classes
    ],
                    dtype=np.uint8)


def prediction_path(output_dir: str, img_path: str,
                    output_format: str) -> str:
    """Where the prediction of ``img_path`` goes."""
    stem = osp.splitext(osp.basename(img_path))[0]
    if stem.endswith('_leftImg8bit'):
        stem = stem[:-len('_leftImg8bit')]
    return osp.join(output_dir, stem + SUFFIXES[output_format])


def write_prediction(pred: np.ndarray, table: np.ndarray, path: str) -> None:
    """Write ``table[pred]`` (H, W) as a grayscale PNG, atomically."""
    write_label_atomic(table[pred], path)


def write_sidecar(output_dir: str, output_format: str,
                  classes: Sequence[str], table: np.ndarray) -> None:
    """Write ``prediction_format.json`` describing the PNGs' values."""
    sidecar = dict(
        format=output_format,
        description=DESCRIPTIONS[output_format],
        file_suffix=SUFFIXES[output_format],
        values={name: int(v)
                for name, v in zip(classes, table)})
    atomic_write_bytes(
        json.dumps(sidecar, indent=2).encode(), osp.join(output_dir, SIDECAR))
