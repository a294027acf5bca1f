"""Frozen copies of a segmentor's networks that predict but never train."""
import copy
from typing import Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor


class FrozenModule(nn.Module):
    """A module that is always in eval mode and has no trainable
    parameters (set up by :meth:`freeze` at the end of ``__init__``)."""

    def freeze(self) -> None:
        """Stop gradients and switch to eval mode for good."""
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> 'FrozenModule':
        """Always eval mode (BN statistics fixed, dropout off)."""
        return super().train(False)


class FrozenBackbone(FrozenModule):
    """A copy of a segmentor's backbone (e.g. holding ImageNet weights).

    Args:
        backbone (nn.Module): The backbone (deep-copied).
    """

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = copy.deepcopy(backbone)
        self.freeze()

    @torch.no_grad()
    def forward(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        """Backbone outputs of normalised images (B, 3, H, W)."""
        return tuple(self.backbone(inputs))


class FrozenPredictor(FrozenModule):
    """Backbone and decode head copied from a segmentor, in eval mode.

    ``forward`` returns the head's classifier input (``feature='head'``,
    heads with ``exposes_feature``) or a backbone output (an int index) and
    the logits at head resolution, without gradient. :meth:`load_from`
    copies the segmentor's current weights (stage start).

    Args:
        backbone (nn.Module): The segmentor's backbone (deep-copied).
        decode_head (nn.Module): Its decode head (deep-copied).
        feature (str | int): 'head' or a backbone output index.
    """

    def __init__(self, backbone: nn.Module, decode_head: nn.Module,
                 feature: Union[str, int]) -> None:
        super().__init__()
        self.backbone = copy.deepcopy(backbone)
        self.decode_head = copy.deepcopy(decode_head)
        self.feature = feature
        self.freeze()

    def load_from(self, segmentor: nn.Module) -> None:
        """Copy the segmentor's backbone and decode head weights."""
        self.backbone.load_state_dict(segmentor.backbone.state_dict())
        self.decode_head.load_state_dict(segmentor.decode_head.state_dict())

    @torch.no_grad()
    def forward(self, inputs: Tensor) -> Tuple[Tensor, Tensor]:
        """Predict.

        Args:
            inputs (Tensor): Normalised images, (B, 3, H, W).

        Returns:
            tuple[Tensor, Tensor]: Feature (B, D, h, w) and logits
            (B, C, h, w) at head resolution.
        """
        feats = self.backbone(inputs)
        if self.feature == 'head':
            feature = self.decode_head._forward_feature(feats)
            return feature, self.decode_head.cls_seg(feature)
        return feats[self.feature], self.decode_head(feats)
