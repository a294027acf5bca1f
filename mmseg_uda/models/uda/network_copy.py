"""Copies of a segmentor's network that are never trained by the
optimiser."""
import copy
from typing import List, Optional

import torch.nn as nn
from torch import Tensor


class NetworkCopy(nn.Module):
    """Backbone, neck (if any) and decode head (if any) deep-copied from a
    segmentor, with ``requires_grad=False`` on every parameter.

    The base of :class:`FrozenNetworkCopy` (CAG's frozen prediction model,
    FD's ImageNet backbone) and :class:`MeanTeacher` (DACS); how the copy is
    kept up to date and in which mode it predicts is theirs. Parameters are
    registered in the same order as in the segmentor's parts, so
    ``parameters()`` of copy and original pair up by position.

    Args:
        backbone (nn.Module): The segmentor's backbone.
        decode_head (nn.Module, optional): Its decode head; None copies no
            head (a backbone-only copy). Defaults to None.
        neck (nn.Module, optional): Its neck. Defaults to None.
    """

    def __init__(self,
                 backbone: nn.Module,
                 decode_head: Optional[nn.Module] = None,
                 neck: Optional[nn.Module] = None) -> None:
        super().__init__()
        self.backbone = copy.deepcopy(backbone)
        if neck is not None:
            self.neck = copy.deepcopy(neck)
        if decode_head is not None:
            self.decode_head = copy.deepcopy(decode_head)
        self.requires_grad_(False)

    @staticmethod
    def part_names(module: nn.Module) -> List[str]:
        """``backbone``, ``neck`` and ``decode_head``, those that
        ``module`` has: the parts a copy mirrors, in copy order."""
        return [
            name for name in ('backbone', 'neck', 'decode_head')
            if getattr(module, name, None) is not None
        ]

    def mirrored(self, segmentor: nn.Module) -> List[nn.Module]:
        """The segmentor's modules that this copy mirrors, in its order."""
        return [getattr(segmentor, name) for name in self.part_names(self)]

    def load_from(self, segmentor: nn.Module) -> None:
        """Copy the segmentor's weights (parameters and buffers) of the
        mirrored parts."""
        for name, other in zip(self.part_names(self),
                               self.mirrored(segmentor)):
            getattr(self, name).load_state_dict(other.state_dict())

    def features(self, inputs: Tensor):
        """Backbone (and neck) outputs on normalised images (B, 3, H, W)."""
        feats = self.backbone(inputs)
        if getattr(self, 'neck', None) is not None:
            feats = self.neck(feats)
        return feats


class FrozenNetworkCopy(NetworkCopy):
    """A :class:`NetworkCopy` that is always in eval mode (BN statistics
    fixed, dropout off): ``train()`` cannot switch it back, so its buffers
    change only when weights are loaded into it.

    Args:
        backbone (nn.Module): The segmentor's backbone.
        decode_head (nn.Module, optional): Its decode head, or None.
            Defaults to None.
        neck (nn.Module, optional): Its neck. Defaults to None.
    """

    def __init__(self,
                 backbone: nn.Module,
                 decode_head: Optional[nn.Module] = None,
                 neck: Optional[nn.Module] = None) -> None:
        super().__init__(backbone, decode_head, neck)
        self.eval()

    def train(self, mode: bool = True) -> 'FrozenNetworkCopy':
        """Always eval mode."""
        return super().train(False)
