"""Output-space adversarial adaptation (AdaptSegNet single-level): CAG-UDA's
warm-up stage and the "output-level adversarial" baseline."""
from typing import Dict, Optional

import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.frozen_call import frozen_call
from .domain_outputs import DomainOutputs

SOURCE, TARGET = 0., 1.


@MODELS.register_module()
class OutputAdversarial(BaseModule):
    """A discriminator D on the softmax output, source 0 / target 1.

    With ``p = softmax(logits)`` upsampled to the image size (logits
    resized bilinearly first, as AdaptSegNet) and BCE on D's logit map::

        loss_adv  = adv_weight  * BCE(D(p_t), 0)            # D frozen
        loss_disc = disc_weight * (BCE(D(p_s.detach()), 0)
                                   + BCE(D(p_t.detach()), 1))

    ``loss_adv`` calls D with detached parameters (it trains the
    segmentation network only); ``loss_disc`` sees detached maps (it trains
    D only, through D's own optimiser). One backward pass as FADA's term.

    Args:
        discriminator (dict): Config of D, e.g.
            ``dict(type='FullyConvDiscriminator', in_channels=19)``.
        adv_weight (float): lambda_adv. Defaults to 0.001 (AdaptSegNet's
            single-level value).
        disc_weight (float): Weight of each domain's D term. Defaults to 0.5
            (AdaptSegNet halves both).
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 discriminator: dict,
                 adv_weight: float = 0.001,
                 disc_weight: float = 0.5,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.discriminator = MODELS.build(discriminator)
        self.adv_weight = adv_weight
        self.disc_weight = disc_weight

    def loss(self, source: DomainOutputs,
             target: DomainOutputs) -> Dict[str, Tensor]:
        """Adversarial (generator) and discriminator terms."""
        p_s = F.softmax(source.resized('main').detach().float(), dim=1)
        p_t = F.softmax(target.resized('main').float(), dim=1)
        d_t_frozen = frozen_call(self.discriminator, p_t)
        d_s = self.discriminator(p_s)
        d_t = self.discriminator(p_t.detach())
        return dict(
            loss_adv=self.adv_weight * self._bce(d_t_frozen, SOURCE),
            loss_disc=self.disc_weight *
            (self._bce(d_s, SOURCE) + self._bce(d_t, TARGET)))

    @staticmethod
    def _bce(logits: Tensor, label: float) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            logits, logits.new_full(logits.shape, label))
