"""Label loading whose decode errors and out-of-range values name the
file."""
from typing import Optional

import numpy as np
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from .checked_load_image import name_decode_errors


class LabelValueError(ValueError):
    """A label holds a value that is neither a class nor the ignore index."""


def check_label_values(seg_map: np.ndarray, num_classes: int,
                       ignore_index: int, where: str) -> None:
    """Raise if a label map holds a value outside the classes.

    Args:
        seg_map (np.ndarray): Label map of shape (H, W).
        num_classes (int): Number of classes; valid values are
            ``0 .. num_classes - 1`` and ``ignore_index``.
        ignore_index (int): The label value that is not trained/evaluated.
        where (str): The label file, for the message.

    Raises:
        LabelValueError: Naming the file, the bad values and the range.
    """
    bad = (seg_map >= num_classes) & (seg_map != ignore_index)
    if seg_map.dtype.kind in 'if':  # signed
        bad |= seg_map < 0
    if not bad.any():
        return
    values = np.unique(seg_map[bad])
    listed = ', '.join(str(v) for v in values[:10].tolist())
    more = f' and {len(values) - 10} more' if len(values) > 10 else ''
    raise LabelValueError(
        f'{where}: label value(s) {listed}{more} in {int(bad.sum())} '
        f'pixel(s) are outside the {num_classes} classes (0..'
        f'{num_classes - 1}) and the ignore index {ignore_index}. Was the '
        f'label converted for this class setting (the dataset\'s '
        f'num_classes / seg_map_suffix)?')


@TRANSFORMS.register_module()
class CheckedLoadAnnotations(LoadAnnotations):
    """MMSeg's ``LoadAnnotations`` that names the file it cannot decode and
    refuses label values outside the classes.

    MMSeg 1.2.2 decodes labels with Pillow by default and then reports an
    undecodable file as ``cannot identify image file <_io.BytesIO ...>``.
    A value that is neither a class index nor ``ignore_index`` would make
    training fail with ``IndexError: Target 50 is out of bounds`` (no file
    named) and evaluation silently miscount; it is refused here, naming the
    file and the value. The number of classes is ``num_classes`` if given,
    else ``results['num_classes']``, which mmseg_uda's datasets set from
    their classes; without either the values are not checked.

    Args:
        num_classes (int, optional): Number of classes. Defaults to None
            (the dataset's).
        ignore_index (int): The ignored label value. Defaults to 255.
        **kwargs: Arguments of
            :class:`mmseg.datasets.transforms.LoadAnnotations`.

    Raises:
        CorruptFileError: Naming the label file.
        LabelValueError: Naming the label file and the value.
    """

    def __init__(self,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def _load_seg_map(self, results: dict) -> None:
        """Load ``results['seg_map_path']`` into ``results['gt_seg_map']``.

        Args:
            results (dict): Result dict with ``seg_map_path`` and optionally
                ``num_classes``.
        """
        with name_decode_errors(results['seg_map_path'], 'label'):
            super()._load_seg_map(results)
        num_classes = self.num_classes or results.get('num_classes')
        if num_classes:
            check_label_values(results['gt_seg_map'], num_classes,
                               self.ignore_index, results['seg_map_path'])

    def __repr__(self) -> str:
        return (super().__repr__()[:-1] + f', num_classes={self.num_classes}'
                f', ignore_index={self.ignore_index})')
