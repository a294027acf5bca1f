"""FADA: fine-grained (class-aware) adversarial feature alignment, and the
binary feature-level baseline."""
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ..losses.soft_label_cross_entropy import soft_label_cross_entropy
from ..utils.frozen_call import frozen_call
from .domain_outputs import DomainOutputs

SOURCE, TARGET = 0, 1


def clipped_soft_labels(logits: Tensor, clip: Optional[float]) -> Tensor:
    """FADA's soft labels: ``softmax(logits)``, detached, clipped.

    Entries above ``clip`` are set to ``clip``; the result is *not*
    renormalised, as in the reference implementation.

    Args:
        logits (Tensor): Temperature-scaled logits, shape (B, C, H, W).
        clip (float, optional): Upper bound of an entry; None keeps the
            plain softmax.

    Returns:
        Tensor: Labels a, shape (B, C, H, W), without gradient.
    """
    labels = F.softmax(logits.detach().float(), dim=1)
    return labels if clip is None else labels.clamp(max=clip)


def domain_class_labels(soft_labels: Tensor, domain: int) -> Tensor:
    """FADA's 2C-channel domain encoding: ``[a, 0]`` or ``[0, a]``.

    Args:
        soft_labels (Tensor): Class labels a, shape (B, C, H, W).
        domain (int): ``SOURCE`` (0) puts a in the first C channels,
            ``TARGET`` (1) in the last C.

    Returns:
        Tensor: Shape (B, 2C, H, W).
    """
    zeros = torch.zeros_like(soft_labels)
    parts = (soft_labels, zeros) if domain == SOURCE else (zeros, soft_labels)
    return torch.cat(parts, dim=1)


@MODELS.register_module()
class FineGrainedAdversarial(BaseModule):
    """The target term of FADA (Wang et al., ECCV 2020; METHODS.md sec. 3).

    With ``class_aware=True`` (FADA) and a :class:`FineGrainedDiscriminator`
    D on the backbone feature ``f = feats[feature_index]`` (layer4), using
    the segmentor's temperature-scaled logits (``logit_temperature=1.8`` on
    :class:`UDAEncoderDecoder`, which also scales the source CE) upsampled
    to the image size::

        a_s = min(softmax(s), clip), a_t = min(softmax(t), clip)  # detached
        loss_adv  = adv_weight  * SCE(D(f_t), [a_t, 0])    # D frozen
        loss_disc = disc_weight * (SCE(D(f_s.detach()), [a_s, 0])
                                   + SCE(D(f_t.detach()), [0, a_t]))

    where SCE is :func:`soft_label_cross_entropy` (one softmax over the 2C
    channels) and D's output is upsampled to the image size.
    ``loss_adv`` is computed with a functional call of D on *detached*
    parameters: it trains the segmentation network (through ``f_t``) to
    make target pixels look like "source, class k", and gives D no
    gradient. ``loss_disc`` sees detached features: it trains D only. Both
    are summed with the source CE into the one backward pass of
    :class:`MultiOptimWrapper`, which steps the segmentation optimiser and
    D's own optimiser; that equals the published order (segmentation step,
    then D step from the pre-step features), see DESIGN.md.

    With ``class_aware=False`` and a one-output
    :class:`FeatureDiscriminator` this is the binary "feature-level only"
    baseline, D scoring P(target) per pixel (binary cross-entropy, source
    d = 0, target d = 1)::

        loss_adv  = adv_weight  * BCE(D(f_t), 0)          # D frozen
        loss_disc = disc_weight * (BCE(D(f_s.detach()), 0)
                                   + BCE(D(f_t.detach()), 1))

    Args:
        discriminator (dict): Config of the discriminator, e.g.
            ``dict(type='FineGrainedDiscriminator', num_classes=19)``. Give
            it its own optimiser with ``modules=['uda_terms.<i>.
            discriminator']`` in a ``MultiOptimWrapperConstructor`` config.
        adv_weight (float): Weight of the adversarial term. Defaults to
            0.001.
        disc_weight (float): Weight of each domain's discriminator term.
            Defaults to 0.5.
        clip (float, optional): Upper bound of a soft-label entry; None
            disables clipping. Defaults to 0.9.
        class_aware (bool): FADA's domain x class encoding (True) or the
            binary domain label (False). Defaults to True.
        feature_index (int): Which backbone output D reads. Defaults to 3
            (layer4).
        init_cfg (dict or list[dict], optional): Initialization config.
            Defaults to None.
    """

    def __init__(self,
                 discriminator: dict,
                 adv_weight: float = 0.001,
                 disc_weight: float = 0.5,
                 clip: Optional[float] = 0.9,
                 class_aware: bool = True,
                 feature_index: int = 3,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if clip is not None and not 0 < clip <= 1:
            raise ValueError(
                f'FineGrainedAdversarial: clip must be in (0, 1], got {clip}')
        self.discriminator = MODELS.build(discriminator)
        expected = 'a multiple of 2 (2C)' if class_aware else '1'
        out_channels = getattr(self.discriminator, 'out_channels', None)
        if out_channels is not None and (out_channels % 2 if class_aware else
                                         out_channels != 1):
            raise ValueError(
                f'FineGrainedAdversarial(class_aware={class_aware}): the '
                f'discriminator {discriminator.get("type")} has '
                f'{out_channels} output channels, expected {expected}')
        self.adv_weight = adv_weight
        self.disc_weight = disc_weight
        self.clip = clip
        self.class_aware = class_aware
        self.feature_index = feature_index

    def loss(self, source: DomainOutputs,
             target: DomainOutputs) -> Dict[str, Tensor]:
        """Adversarial and discriminator terms of one step.

        Args:
            source (DomainOutputs): Outputs on the labelled source images.
            target (DomainOutputs): Outputs on the target images.

        Returns:
            dict[str, Tensor]: ``loss_adv`` (trains the segmentation network
            only) and ``loss_disc`` (trains the discriminator only).
        """
        f_s, f_t = self._feature(source), self._feature(target)
        a_s, a_t = self._class_labels(source), self._class_labels(target)
        size_s, size_t = source.inputs.shape[2:], target.inputs.shape[2:]
        # The generator wants target pixels scored as source.
        # D applied with detached parameters: gradients reach f_t, never D.
        d_t_frozen = frozen_call(self.discriminator, f_t, size_t)
        loss_adv = self._criterion(d_t_frozen, self._encode(a_t, SOURCE))
        d_s = self.discriminator(f_s.detach(), size_s)
        d_t = self.discriminator(f_t.detach(), size_t)
        loss_disc = self._criterion(d_s, self._encode(a_s, SOURCE)) + \
            self._criterion(d_t, self._encode(a_t, TARGET))
        return dict(
            loss_adv=self.adv_weight * loss_adv,
            loss_disc=self.disc_weight * loss_disc)

    def _feature(self, outputs: DomainOutputs) -> Tensor:
        """The backbone output the discriminator reads."""
        feats: Sequence[Tensor] = outputs.feats
        if not -len(feats) <= self.feature_index < len(feats):
            raise IndexError(
                f'FineGrainedAdversarial: feature_index={self.feature_index} '
                f'but the backbone returns {len(feats)} outputs')
        return feats[self.feature_index]

    def _class_labels(self, outputs: DomainOutputs) -> Tensor:
        """Per-pixel class weights at the image size, without gradient.

        Class-aware: the clipped soft labels of the main head,
        (B, C, H, W); binary: ones, (B, 1, H, W).
        """
        if not self.class_aware:
            batch, _, height, width = outputs.inputs.shape
            return outputs.inputs.new_ones((batch, 1, height, width),
                                           dtype=torch.float32)
        return clipped_soft_labels(outputs.resized('main'), self.clip)

    def _encode(self, class_labels: Tensor, domain: int) -> Tensor:
        """D's targets: ``[a, 0]`` / ``[0, a]`` (class-aware) or the domain
        index d everywhere (binary)."""
        if not self.class_aware:
            return class_labels * domain
        return domain_class_labels(class_labels, domain)

    def _criterion(self, d_logits: Tensor, labels: Tensor) -> Tensor:
        """SCE over the 2C channels, or BCE for the binary baseline."""
        if d_logits.shape != labels.shape:
            raise ValueError(
                'FineGrainedAdversarial: discriminator output '
                f'{tuple(d_logits.shape)} does not match its labels '
                f'{tuple(labels.shape)}; a FineGrainedDiscriminator needs '
                'num_classes equal to the segmentor\'s')
        if self.class_aware:
            return soft_label_cross_entropy(d_logits, labels)
        return F.binary_cross_entropy_with_logits(d_logits.float(), labels)
