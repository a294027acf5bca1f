"""Self-supervised loss on the target's own predictions (MinEnt, MaxSquare,
image-wise weighting, multi-level self-produced guidance)."""
from typing import Dict, Optional

from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from .domain_outputs import DomainOutputs


@MODELS.register_module()
class TargetOutputLoss(BaseModule):
    """``loss(main_t)`` (+ ``guidance(low_t, main_t)``) on the target batch.

    The MaxSquare family (METHODS.md section 2): the target term is a loss
    of the target's main-head probabilities, ``λ_T · loss(main_t)`` with
    λ_T carried by the loss's ``loss_weight``; with multi-level models the
    low head is additionally trained towards the self-produced guidance
    label (``0.1 · λ_T · SelfGuidance(low_t, main_t)``). Both heads' logits
    are upsampled to the input size first (``align_corners=True``).

    Args:
        loss (dict): Loss on the main logits, e.g.
            ``dict(type='MaxSquareLoss', loss_weight=0.1)``.
        guidance (dict, optional): Loss called as ``guidance(low, main)``,
            e.g. ``dict(type='SelfGuidanceLoss', loss_weight=0.009)``.
    """

    def __init__(self, loss: dict, guidance: Optional[dict] = None) -> None:
        super().__init__()
        self.target_loss = MODELS.build(loss)
        self.guidance = MODELS.build(guidance) if guidance else None

    def loss(self, source: DomainOutputs,
             target: DomainOutputs) -> Dict[str, Tensor]:
        """Target losses of one step.

        Args:
            source (DomainOutputs): Unused (kept for the term interface).
            target (DomainOutputs): Outputs on the target images.

        Returns:
            dict[str, Tensor]: Named, already weighted scalar losses.
        """
        main = target.resized('main')
        losses = {self.target_loss.loss_name: self.target_loss(main)}
        if self.guidance is not None:
            losses[self.guidance.loss_name] = self.guidance(
                target.resized('low'), main)
        return losses
