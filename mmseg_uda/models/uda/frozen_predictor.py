"""A frozen copy of a segmentor's network that predicts but never trains."""
from typing import Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor

from .network_copy import FrozenNetworkCopy


class FrozenPredictor(FrozenNetworkCopy):
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
        super().__init__(backbone, decode_head)
        self.feature = feature

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
