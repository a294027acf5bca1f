"""Class-weighted cross-entropy with PyTorch's weighted mean, and class
weights derived from a converter's ``class_stats.json``."""
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ...datasets.class_tables import train_id_suffix
from ...datasets.label_conversion import load_class_stats

# Released source-CE class weights of the depth method (METHODS.md 6.3),
# "statistics in source domain". They satisfy sum_c 1 / w_c = C (to 3
# digits), i.e. w_c = 1 / (C * f_c) with f_c the class's share of the
# labelled source pixels: the formula of class_weights_from_stats.
RELEASED_SOURCE_WEIGHTS: Dict[int, tuple] = {
    16: (0.327, 0.313, 0.206, 22.427, 22.558, 5.811, 155.643, 59.528, 0.586,
         0.882, 1.423, 12.871, 1.488, 3.955, 29.164, 27.563),
    7: (0.349, 0.462, 11.576, 1.325, 1.993, 3.216, 3.192),
}


def class_pixel_counts(stats_file: str, num_classes: int) -> Tensor:
    """Labelled pixels per class over a converter's ``class_stats.json``.

    Args:
        stats_file (str): ``DATA_ROOT/class_stats.json`` of a converter.
        num_classes (int): The class setting; only the labels of that
            setting (names ending in its ``_labelTrainIds`` suffix) count.

    Returns:
        Tensor: Shape (num_classes, ), float64.

    Raises:
        ValueError: If the file holds no label of that setting or a train
            id outside it, naming the file.
    """
    # Either format version; the setting is read from the file names.
    stats = load_class_stats(stats_file)
    suffix = train_id_suffix(num_classes)
    counts = torch.zeros(num_classes, dtype=torch.float64)
    used = 0
    for key, per_class in stats.items():
        if not key.endswith(suffix):
            continue
        used += 1
        for train_id, count in per_class.items():
            if not 0 <= int(train_id) < num_classes:
                raise ValueError(
                    f'{stats_file}: {key} counts train id {train_id}, '
                    f'outside the {num_classes}-class setting')
            counts[int(train_id)] += count
    if used == 0:
        raise ValueError(f'{stats_file}: no label named *{suffix} (the '
                         f'{num_classes}-class setting); run the converter '
                         'that writes it')
    return counts


def class_weights_from_stats(stats_file: str, num_classes: int) -> list:
    """Source-frequency class weights ``w_c = 1 / (C * f_c)``.

    ``f_c`` is class c's share of all labelled pixels in ``stats_file``.
    The released weights (:data:`RELEASED_SOURCE_WEIGHTS`) follow this
    formula on the full SYNTHIA set; a class absent from the data gets
    weight 0.

    Args:
        stats_file (str): ``class_stats.json`` of the source converter.
        num_classes (int): The class setting.

    Returns:
        list[float]: One weight per class.
    """
    counts = class_pixel_counts(stats_file, num_classes)
    shares = counts / counts.sum()
    weights = torch.where(shares > 0, 1.0 / (num_classes * shares),
                          torch.zeros_like(shares))
    return weights.tolist()


@MODELS.register_module()
class ClassWeightedCrossEntropyLoss(nn.Module):
    """PyTorch's ``nn.CrossEntropyLoss(weight=w, ignore_index=255)``.

    The mean is weighted: ``sum_i w[y_i] * CE_i / sum_i w[y_i]`` over the
    non-ignored pixels (MMSeg's ``CrossEntropyLoss`` divides by the pixel
    count instead), as the released depth code's source CE. Usable as a
    decode head's ``loss_decode``.

    Args:
        class_weight (Sequence[float] | str): One weight per class, or
            ``'released-16'`` / ``'released-7'`` for the released values
            (:data:`RELEASED_SOURCE_WEIGHTS`), or the path of a
            ``class_stats.json`` (weights from
            :func:`class_weights_from_stats`; needs ``num_classes``).
        num_classes (int, optional): Checked against the weights' length;
            required for a ``class_stats.json`` path.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item. Defaults to 'loss_ce'.
    """

    def __init__(self,
                 class_weight,
                 num_classes: Optional[int] = None,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_ce') -> None:
        super().__init__()
        weights = self._resolve(class_weight, num_classes)
        if num_classes is not None and len(weights) != num_classes:
            raise ValueError(
                f'ClassWeightedCrossEntropyLoss: {len(weights)} class '
                f'weights ({class_weight!r}) for {num_classes} classes')
        self.register_buffer(
            'class_weight', torch.tensor(weights, dtype=torch.float32),
            persistent=False)
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @staticmethod
    def _resolve(class_weight, num_classes: Optional[int]) -> Sequence:
        if isinstance(class_weight, str):
            if class_weight.startswith('released-'):
                count = int(class_weight.split('-', 1)[1])
                if count not in RELEASED_SOURCE_WEIGHTS:
                    raise ValueError(
                        f'ClassWeightedCrossEntropyLoss: no released weights '
                        f'for {count} classes (have '
                        f'{sorted(RELEASED_SOURCE_WEIGHTS)})')
                return RELEASED_SOURCE_WEIGHTS[count]
            if num_classes is None:
                raise ValueError('ClassWeightedCrossEntropyLoss: weights '
                                 f'from {class_weight!r} need num_classes')
            return class_weights_from_stats(class_weight, num_classes)
        return list(class_weight)

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: int = 255,
                **kwargs) -> Tensor:
        """Weighted loss.

        Args:
            cls_score (Tensor): Logits, shape (B, C, H, W).
            label (Tensor): Labels, shape (B, H, W).
            weight (Tensor, optional): Per-pixel weights; not supported
                (must be None).
            ignore_index (int): Label to ignore. Defaults to 255.

        Returns:
            Tensor: Scalar loss.
        """
        if weight is not None:
            raise ValueError('ClassWeightedCrossEntropyLoss: per-pixel '
                             'weights (a sampler) are not supported')
        if cls_score.shape[1] != self.class_weight.numel():
            raise ValueError(
                f'ClassWeightedCrossEntropyLoss: {self.class_weight.numel()} '
                f'class weights for logits of {cls_score.shape[1]} classes')
        weighted = F.cross_entropy(
            cls_score.float(),
            label,
            weight=self.class_weight,
            ignore_index=ignore_index,
            reduction='none')
        valid = label != ignore_index
        total = self.class_weight[label.clamp(min=0) * valid][valid].sum()
        # An image without labelled pixels gives 0 (torch's mean gives nan).
        return self.loss_weight * weighted.sum() / total.clamp(min=1e-12)

    @property
    def loss_name(self) -> str:
        return self._loss_name
