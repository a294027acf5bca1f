"""Thing-class ImageNet feature distance (DAFormer, METHODS.md 7.4)."""
import logging
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor, nn

from ...utils.checkpoint_safety import safe_torch_load
from .domain_outputs import DomainOutputs
from .held_networks import HoldsNetworks
from .network_copy import FrozenNetworkCopy

#: Cityscapes train ids of the thing classes: traffic light, traffic sign,
#: person, rider, car, truck, bus, train, motorcycle, bicycle.
THING_CLASSES = (6, 7, 11, 12, 13, 14, 15, 16, 17, 18)
IGNORE_INDEX = 255
# Held network (state-dict keys ``uda_terms.<i>.imnet_backbone.*``).
IMNET_BACKBONE = 'imnet_backbone'
BACKBONE_PREFIX = 'backbone.'


def pooled_label(labels: Tensor,
                 cell: int,
                 num_classes: int,
                 min_ratio: float,
                 ignore_index: int = IGNORE_INDEX) -> Tensor:
    """The dominant class of every ``cell x cell`` block of a label map.

    Ignored pixels (any value outside ``[0, num_classes)``) count as one
    extra class; a block whose most frequent value is that extra class, or
    whose most frequent class covers less than ``min_ratio`` of it, is
    ``ignore_index``. Trailing rows/columns that do not fill a block are
    dropped (average pooling with kernel = stride = ``cell``).

    Args:
        labels (Tensor): Label maps, shape (B, H, W), integer.
        cell (int): Block size (>= 1).
        num_classes (int): C.
        min_ratio (float): Least share of the dominant class.
        ignore_index (int): Value of ignored blocks. Defaults to 255.

    Returns:
        Tensor: Shape (B, H // cell, W // cell), ``int64``.
    """
    batch, height, width = labels.shape
    h, w = height // cell, width // cell
    blocks = labels[:, :h * cell, :w * cell].long()
    blocks = torch.where((blocks >= 0) & (blocks < num_classes), blocks,
                         num_classes)
    blocks = blocks.reshape(batch, h, cell, w, cell)
    values = torch.arange(num_classes + 1, device=labels.device)
    # (B, h, w, C + 1) pixel counts per block, without a float one-hot map
    counts = (blocks.unsqueeze(-1) == values).sum(dim=(2, 4))
    top, dominant = counts.max(dim=-1)
    share = top.float() / (cell * cell)
    ignored = (dominant == num_classes) | (share < min_ratio)
    return torch.where(ignored, torch.full_like(dominant, ignore_index),
                       dominant)


def feature_cell_mask(labels: Tensor, feature_size: Tuple[int, int],
                      num_classes: int,
                      classes: Optional[Union[Sequence[int], Tensor]],
                      min_ratio: float) -> Tensor:
    """Which feature cells the feature distance is taken over.

    Args:
        labels (Tensor): Label maps, shape (B, H, W).
        feature_size (tuple[int, int]): (h, w) of the feature map.
        num_classes (int): C.
        classes (Sequence[int] | Tensor, optional): Cells whose pooled
            label (:func:`pooled_label` with ``cell = W // w``) is one of
            these are used; None uses every cell (no pooling).
        min_ratio (float): See :func:`pooled_label`.

    Returns:
        Tensor: Shape (B, h, w), bool.

    Raises:
        ValueError: If the feature grid does not tile the label map.
    """
    batch, height, width = labels.shape
    h, w = feature_size
    if classes is None:
        return torch.ones(
            batch, h, w, dtype=torch.bool, device=labels.device)
    cell = width // w
    if cell < 1 or (height // cell, width // cell) != (h, w):
        raise ValueError(
            f'ImageNetFeatureDistance: features of {h}x{w} cells do not '
            f'tile labels of {height}x{width} (cell = {width} // {w} = '
            f'{cell} gives {height // max(cell, 1)}x{width // max(cell, 1)} '
            'cells); use an input size and backbone whose output stride '
            'divides it (a floor-mode stem)')
    pooled = pooled_label(labels, cell, num_classes, min_ratio)
    return torch.isin(pooled, torch.as_tensor(classes, device=labels.device))


def masked_feature_distance(student: Tensor, reference: Tensor,
                            mask: Tensor) -> Tuple[Tensor, Tensor]:
    """Mean L2 distance over the channels, over the masked cells.

    Args:
        student (Tensor): Features, shape (B, D, h, w).
        reference (Tensor): Features of the same shape (no gradient).
        mask (Tensor): Cells to use, shape (B, h, w), bool.

    Returns:
        tuple[Tensor, Tensor]: The mean distance (0 when no cell is used:
        a masked sum over ``max(count, 1)``, no host synchronisation) and
        the number of used cells (float), both scalars.
    """
    distance = torch.linalg.vector_norm(
        student.float() - reference.float(), dim=1)
    count = mask.sum().float()
    total = torch.where(mask, distance, distance.new_zeros(())).sum()
    return total / count.clamp(min=1), count


@MODELS.register_module()
class ImageNetFeatureDistance(HoldsNetworks, BaseModule):
    """Thing-class ImageNet feature distance (DAFormer; METHODS.md 7.4).

    On the source batch, with ``F_S`` the student's backbone output
    ``feature_index`` (default the last stage, through the graph of the
    source forward) and ``F_I`` that of a frozen copy of the backbone with
    ImageNet weights on the same images::

        mask = feature_cell_mask(y_s, (h, w), C, classes, min_ratio)
        loss_imnet_feat_dist = loss_weight * sum_mask ||F_S - F_I||_2
                               / max(#mask, 1)

    and ``imnet_feat_dist_cells = #mask`` is logged (not a loss: its key
    has no ``loss``). A batch without a thing cell gives 0, where the
    release logs NaN (METHODS.md 7.9 #6).

    The copy (a backbone-only :class:`FrozenNetworkCopy`) is built by
    :meth:`attach` from the segmentor's backbone and held outside the
    module tree (:class:`HoldsNetworks`): eval mode, no gradient, in no
    optimiser, never updated, saved in the checkpoint
    (``uda_terms.<i>.imnet_backbone.backbone.*``). Its weights are read from
    ``pretrained`` when the first source batch arrives (iteration 0), unless
    a loaded checkpoint (``--resume``, or ``load_from`` of a run with this
    term) already provided the whole copy.

    Args:
        pretrained (str): The ImageNet weights of the backbone: a
            checkpoint whose ``state_dict`` (or the file itself) holds the
            backbone's tensors, either prefixed ``backbone.`` (a segmentor
            or converted checkpoint) or bare. Required.
        loss_weight (float): lambda_FD. Defaults to 0.005.
        classes (Sequence[int], optional): Classes whose cells are used
            (``fdist_classes``); defaults to the 19-class thing classes
            :data:`THING_CLASSES`. None uses every cell of the feature map
            (the release's all-class ablation: no label pooling, ignored
            and mixed cells included).
        min_ratio (float): Least share of a cell's dominant class. Defaults
            to 0.75.
        feature_index (int): Backbone output compared. Defaults to -1.
        init_cfg (dict, optional): Initialization config.

    Raises:
        ValueError: Without ``pretrained``, naming the key.
    """

    def __init__(self,
                 pretrained: Optional[str] = None,
                 loss_weight: float = 0.005,
                 classes: Optional[Sequence[int]] = THING_CLASSES,
                 min_ratio: float = 0.75,
                 feature_index: int = -1,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not pretrained:
            raise ValueError(
                'ImageNetFeatureDistance needs the ImageNet weights of the '
                'backbone: set pretrained=<checkpoint> in its config '
                '(model.uda_terms[...].pretrained)')
        self.pretrained = pretrained
        self.loss_weight = loss_weight
        self.classes = None if classes is None else tuple(
            int(c) for c in classes)
        self.min_ratio = min_ratio
        self.feature_index = feature_index
        self.num_classes: Optional[int] = None
        self._weights_ready = False
        if self.classes is not None:
            # on the device with the model: no host-to-device copy per step
            self.register_buffer(
                'used_classes',
                torch.tensor(self.classes, dtype=torch.long),
                persistent=False)

    def attach(self, segmentor: nn.Module) -> None:
        """Build the frozen copy of ``segmentor``'s backbone.

        Raises:
            ValueError: If the segmentor has a neck (its features would not
                be the backbone's) or a class is outside its head's.
        """
        if getattr(segmentor, 'with_neck', False):
            raise ValueError(
                'ImageNetFeatureDistance compares backbone features; a '
                'segmentor with a neck is not supported')
        self.num_classes = int(segmentor.decode_head.num_classes)
        outside = [
            c for c in self.classes or ()
            if not 0 <= c < self.num_classes
        ]
        if outside:
            raise ValueError(
                f'ImageNetFeatureDistance: classes {outside} are outside the '
                f'{self.num_classes} classes of the decode head (the default '
                'thing classes are Cityscapes 19-class train ids)')
        self.hold(IMNET_BACKBONE, FrozenNetworkCopy(segmentor.backbone))

    @property
    def imnet_backbone(self) -> FrozenNetworkCopy:
        """The frozen ImageNet backbone."""
        return self.held(IMNET_BACKBONE)

    def _held_network_loaded(self, name: str) -> None:
        if name == IMNET_BACKBONE:
            self._weights_ready = True

    def load_imagenet_weights(self) -> None:
        """Read ``pretrained`` into the frozen copy.

        Raises:
            FileNotFoundError: If the file does not exist, naming the key.
            ValueError: If its tensors do not fit the backbone.
        """
        try:
            checkpoint = safe_torch_load(self.pretrained, map_location='cpu')
        except FileNotFoundError as err:
            raise FileNotFoundError(
                f'ImageNetFeatureDistance: the ImageNet weights '
                f'pretrained={self.pretrained!r} do not exist (the FD term\'s '
                'model.uda_terms[...].pretrained)') from err
        state = checkpoint.get('state_dict', checkpoint) if isinstance(
            checkpoint, dict) else None
        if not isinstance(state, dict):
            raise ValueError(f'ImageNetFeatureDistance: {self.pretrained!r} '
                             'holds no state dict')
        backbone = {
            k[len(BACKBONE_PREFIX):]: v
            for k, v in state.items() if k.startswith(BACKBONE_PREFIX)
        }
        state = backbone or state
        target = self.imnet_backbone.backbone
        try:
            result = target.load_state_dict(state, strict=False)
        except RuntimeError as err:  # shapes
            raise ValueError(
                f'ImageNetFeatureDistance: {self.pretrained!r} does not fit '
                f'the backbone: {err}') from err
        # BN step counters carry no weights
        missing, unexpected = ([
            k for k in keys if not k.endswith('num_batches_tracked')
        ] for keys in (result.missing_keys, result.unexpected_keys))
        if missing or unexpected:
            raise ValueError(
                f'ImageNetFeatureDistance: {self.pretrained!r} does not fit '
                f'the backbone ({type(target).__name__}): {len(missing)} '
                f'tensors missing (e.g. {missing[:3]}), {len(unexpected)} '
                f'unexpected (e.g. {unexpected[:3]}). Give the ImageNet '
                'weights of this backbone (converted to its keys).')
        print_log(
            f'ImageNetFeatureDistance: ImageNet backbone loaded from '
            f'{self.pretrained} ({len(state)} tensors)',
            logger='current',
            level=logging.INFO)
        self._weights_ready = True

    def source_loss(self, source: DomainOutputs) -> Dict[str, Tensor]:
        """The feature distance on the source batch (through its graph).

        Args:
            source (DomainOutputs): The student's source outputs, with
                ground truth in ``data_samples``.

        Returns:
            dict[str, Tensor]: ``loss_imnet_feat_dist`` (weighted) and
            ``imnet_feat_dist_cells`` (logged only).
        """
        if not self._weights_ready:
            self.load_imagenet_weights()
        student = source.feats[self.feature_index]
        with torch.no_grad():
            reference = self.imnet_backbone.features(
                source.inputs)[self.feature_index]
        labels = torch.stack(
            [s.gt_sem_seg.data[0] for s in source.data_samples])
        classes = None if self.classes is None else self.used_classes
        mask = feature_cell_mask(labels, student.shape[2:], self.num_classes,
                                 classes, self.min_ratio)
        distance, count = masked_feature_distance(student, reference, mask)
        return dict(
            loss_imnet_feat_dist=self.loss_weight * distance,
            imnet_feat_dist_cells=count)

    def loss(self, source: DomainOutputs,
             target: DomainOutputs) -> Dict[str, Tensor]:
        """No target term (the distance is on the source only)."""
        return {}
