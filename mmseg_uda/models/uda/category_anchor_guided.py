"""CAG-UDA: category anchor-guided adaptation (one stage)."""
from typing import Dict, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from .category_anchors import (IGNORE_INDEX, anchor_pseudo_labels,
                               probability_pseudo_labels, resize_labels)
from .domain_outputs import DomainOutputs
from .frozen_predictor import FrozenPredictor
from .held_networks import HeldNetworks

# Held network (state-dict keys ``uda_terms.<i>.frozen_model.*``).
FROZEN_MODEL = 'frozen_model'


def mean_cross_entropy(logits: Tensor, labels: Tensor) -> Tensor:
    """CE averaged over non-ignored pixels; 0 (in the graph) without any."""
    total = F.cross_entropy(
        logits.float(), labels, ignore_index=IGNORE_INDEX, reduction='sum')
    valid = (labels != IGNORE_INDEX).sum().clamp(min=1)
    return total / valid


@MODELS.register_module()
class CategoryAnchorGuided(HeldNetworks, BaseModule):
    """One CAG-UDA stage (Zhang et al., NeurIPS 2019; METHODS.md sec. 4, 6.1).

    With anchors ``A`` (C, D) fixed for the stage and a frozen copy P of
    the stage's starting network (eval mode, no gradient, in no optimiser),
    on logits and features at head resolution (stride 4 for DeepLab-V3+)::

        y_a = ATI/PLA(P.feature(x_t), A, margin)      # else 255
        y_p = argmax P(x_t) where max softmax > 0.95  # else 255
        loss_ce_anchor = 0.5 * CE(logits_t, y_a)      # not upsampled
        loss_ce_prob   = 0.5 * CE(logits_t, y_p)
        src.loss_dis = 0.7 * Dist(f_s, GT_s nearest-resized, argmax_s, A)
        tgt.loss_dis = 0.7 * Dist(f_t, y_a, argmax_t, A)

    (Dist: :class:`AnchorDistanceLoss`); the source CE is the segmentor's.
    The source distance loss is ``source_loss`` (through the source graph).

    The frozen network is built by :meth:`attach` as a copy of the
    segmentor's backbone and head and held outside the module tree
    (:class:`HeldNetworks`), so it is in no optimiser, not in DDP's
    parameters or broadcast buffers and not switched to train mode, yet it
    is in the checkpoint (``uda_terms.<i>.frozen_model.*``) and follows
    ``.to()``. :class:`CategoryAnchorHook`
    fills it and the anchor buffers at stage start; ``--resume`` restores
    both from the checkpoint.

    Args:
        num_classes (int): C.
        feature_dim (int): D (256 for V3+, 2048 for V2's layer4).
        feature (str | int): Anchor space: 'head' (decode head's classifier
            input) or a backbone output index (3 = layer4). Defaults to
            'head'.
        stage (int): Stage number (1, 2, 3...), saved as a buffer so the
            next stage can check its ``load_from``. Defaults to 1.
        margin (float): ATI's Delta_d. Defaults to 2.5.
        prob_threshold (float): Probability pseudo-label threshold.
            Defaults to 0.95.
        target_ce_weight (float): Weight of each target CE. Defaults to 0.5.
        distance_weight (float): Weight of each distance loss. Defaults to
            0.7.
        distance_loss (dict): Config of the distance loss. Defaults to the
            released :class:`AnchorDistanceLoss`.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 num_classes: int,
                 feature_dim: int = 256,
                 feature: Union[str, int] = 'head',
                 stage: int = 1,
                 margin: float = 2.5,
                 prob_threshold: float = 0.95,
                 target_ce_weight: float = 0.5,
                 distance_weight: float = 0.7,
                 distance_loss: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_classes < 2:
            raise ValueError('CategoryAnchorGuided: num_classes must be >= 2 '
                             f'(ATI needs two anchors), got {num_classes}')
        if feature != 'head' and not isinstance(feature, int):
            raise ValueError("CategoryAnchorGuided: feature must be 'head' "
                             f'or a backbone output index, got {feature!r}')
        self.num_classes = num_classes
        self.feature_dim = feature_dim
        self.feature = feature
        self.stage_index = stage
        self.margin = margin
        self.prob_threshold = prob_threshold
        self.target_ce_weight = target_ce_weight
        self.distance_weight = distance_weight
        self.distance_loss = MODELS.build(
            distance_loss or dict(type='AnchorDistanceLoss'),
            default_args=dict(num_classes=num_classes))
        self.register_buffer('anchors', torch.zeros(num_classes, feature_dim))
        self.register_buffer('anchor_counts',
                             torch.zeros(num_classes, dtype=torch.long))
        self.register_buffer('stage', torch.tensor(stage))

    # --- the frozen prediction model, outside the module tree ---

    def attach(self, segmentor: nn.Module) -> None:
        """Build the frozen network as a copy of ``segmentor``'s."""
        if self.feature == 'head' and not getattr(
                segmentor.decode_head, 'exposes_feature', False):
            raise ValueError(
                "CategoryAnchorGuided(feature='head'): the decode head "
                f'{type(segmentor.decode_head).__name__} does not expose its '
                'feature; use DeepLabV3PlusHead or feature=3 (layer4)')
        self.hold(
            FROZEN_MODEL,
            FrozenPredictor(segmentor.backbone, segmentor.decode_head,
                            self.feature))

    @property
    def frozen_model(self) -> FrozenPredictor:
        """The frozen prediction network."""
        return self.held(FROZEN_MODEL)

    # --- anchors ---

    def set_anchors(self,
                    anchors: Tensor,
                    counts: Tensor,
                    source: str = '<anchors>',
                    allow_missing: bool = False) -> None:
        """Install a stage's anchors after checking them.

        Args:
            anchors (Tensor): Shape (C, D).
            counts (Tensor): Images per class, shape (C,).
            source (str): Where they come from, for messages.
            allow_missing (bool): Accept classes without anchor (count 0):
                their anchor stays at the zero vector. Defaults to False.

        Raises:
            ValueError: Wrong shape, or a class without an anchor (naming
                ``source`` and the class).
        """
        expected = (self.num_classes, self.feature_dim)
        if tuple(anchors.shape) != expected or tuple(counts.shape) != (
                self.num_classes, ):
            raise ValueError(
                f'{source}: anchors of shape {tuple(anchors.shape)} (counts '
                f'{tuple(counts.shape)}), expected {expected} for '
                f'num_classes={self.num_classes}, feature_dim='
                f'{self.feature_dim}')
        empty = [c for c in range(self.num_classes) if int(counts[c]) == 0]
        if empty and not allow_missing:
            raise ValueError(
                f'{source}: class(es) {empty} never got an anchor (no source '
                'image with >= 10 correctly predicted pixels of them); use '
                'more anchor images or a better starting model (or '
                "missing_anchors='zero' in CategoryAnchorHook)")
        if not torch.isfinite(anchors).all():
            raise ValueError(f'{source}: anchors are not finite')
        self.anchors.copy_(anchors)
        self.anchor_counts.copy_(counts)

    @property
    def anchors_ready(self) -> bool:
        """Whether anchors were installed (some class has a count; with
        ``allow_missing`` not every class needs one)."""
        return bool((self.anchor_counts > 0).any())

    # --- losses ---

    def _feature(self, outputs: DomainOutputs) -> Tensor:
        if self.feature == 'head':
            return outputs.head_feature
        return outputs.feats[self.feature]

    def source_loss(self, source: DomainOutputs) -> Dict[str, Tensor]:
        """Source distance loss (through the source graph)."""
        feature = self._feature(source)
        labels = torch.stack(
            [s.gt_sem_seg.data[0] for s in source.data_samples]).long()
        labels = resize_labels(labels, feature.shape[2:])
        prediction = source.logits['main'].detach().argmax(dim=1)
        loss = self.distance_loss(feature, labels, prediction, self.anchors)
        return {self.distance_loss.loss_name: self.distance_weight * loss}

    def pseudo_labels(self, inputs: Tensor) -> Dict[str, Tensor]:
        """Both kinds of target pseudo-labels from the frozen network.

        Args:
            inputs (Tensor): Normalised target images, (B, 3, H, W).

        Returns:
            dict[str, Tensor]: ``anchor`` and ``prob``, each (B, h, w).
        """
        feature, logits = self.frozen_model(inputs)
        return dict(
            anchor=anchor_pseudo_labels(feature, self.anchors, self.margin),
            prob=probability_pseudo_labels(logits, self.prob_threshold))

    def loss(self, source: DomainOutputs,
             target: DomainOutputs) -> Dict[str, Tensor]:
        """Target CEs on both pseudo-labels and the target distance loss."""
        labels = self.pseudo_labels(target.inputs)
        logits = target.logits['main']
        if logits.shape[2:] != labels['anchor'].shape[1:]:
            raise ValueError(
                'CategoryAnchorGuided: trained logits '
                f'{tuple(logits.shape[2:])} and frozen pseudo-labels '
                f"{tuple(labels['anchor'].shape[1:])} differ in size")
        prediction = logits.detach().argmax(dim=1)
        loss_dis = self.distance_loss(
            self._feature(target), labels['anchor'], prediction, self.anchors)
        return {
            'loss_ce_anchor':
            self.target_ce_weight *
            mean_cross_entropy(logits, labels['anchor']),
            'loss_ce_prob':
            self.target_ce_weight * mean_cross_entropy(logits, labels['prob']),
            self.distance_loss.loss_name:
            self.distance_weight * loss_dis,
        }
