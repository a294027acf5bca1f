"""Network outputs of one domain's batch, shared by every loss term."""
from typing import Dict, Optional, Tuple

import torch
from mmseg.models.utils import resize
from mmseg.utils import SampleList
from torch import Tensor

from .shared_results import SharedResults


class DomainOutputs:
    """What the segmentor computed for one domain in a training step.

    The backbone and heads run once per domain; every term (source CE,
    a method's target loss, a discriminator) reads from here instead of
    running the network again.

    When no term needs the network's outputs on a domain (DACS trains on
    the mixed images, not on the plain target batch), the segmentor skips
    that forward and passes :meth:`inputs_only` outputs: images and data
    samples, and a clear error for anything computed.

    Args:
        inputs (Tensor): The normalised images, shape (B, 3, H, W).
        feats (tuple[Tensor], optional): Backbone (and neck) outputs, e.g.
            the four ResNet stages. None when no forward ran.
        logits (dict[str, Tensor], optional): Head outputs at head
            resolution, shape (B, C, h, w); ``'main'`` (decode head) and,
            for multi-level models, ``'low'`` (auxiliary head). None when
            no forward ran.
        align_corners (bool): How logits are upsampled to the input size.
        data_samples (list[SegDataSample], optional): The batch's data
            samples (ground truth and extra fields such as depth for the
            source; metainfo only for the target). Defaults to None.
        head_feature (Tensor, optional): The decode head's pre-classifier
            feature, shape (B, D, h, w), for heads with
            ``exposes_feature = True``. Defaults to None.
        shared (SharedResults, optional): The store of results shared
            between terms. Defaults to a new, empty one.
    """

    def __init__(self,
                 inputs: Tensor,
                 feats: Optional[Tuple[Tensor, ...]],
                 logits: Optional[Dict[str, Tensor]],
                 align_corners: bool,
                 data_samples: Optional[SampleList] = None,
                 head_feature: Optional[Tensor] = None,
                 shared: Optional[SharedResults] = None) -> None:
        self.inputs = inputs
        self.shared = SharedResults() if shared is None else shared
        self.head_feature = head_feature
        self._feats = feats
        self._logits = logits
        self.align_corners = align_corners
        self.data_samples = data_samples
        self._resized: Dict[str, Tensor] = {}

    @classmethod
    def inputs_only(cls,
                    inputs: Tensor,
                    align_corners: bool,
                    data_samples: Optional[SampleList] = None
                    ) -> 'DomainOutputs':
        """Outputs of a domain on which the network did not run.

        Args:
            inputs (Tensor): The normalised images, shape (B, 3, H, W).
            align_corners (bool): The segmentor's upsampling setting.
            data_samples (list[SegDataSample], optional): Their samples.

        Returns:
            DomainOutputs: ``inputs`` and ``data_samples``; reading
            features or logits raises.
        """
        return cls(inputs, None, None, align_corners, data_samples)

    @property
    def has_forward(self) -> bool:
        """Whether the network ran on these images."""
        return self._logits is not None

    def _computed(self, what: str):
        if not self.has_forward:
            raise RuntimeError(
                f'DomainOutputs: no {what} for these images: the segmentor '
                'ran no forward on them because every term in uda_terms '
                'declares needs_target_forward = False; a term that reads '
                'the target outputs must not declare that')
        return self._feats if what == 'features' else self._logits

    @property
    def feats(self) -> Tuple[Tensor, ...]:
        """Backbone (and neck) outputs."""
        return self._computed('features')

    @property
    def logits(self) -> Dict[str, Tensor]:
        """Head outputs at head resolution."""
        return self._computed('logits')

    def resized(self, name: str = 'main') -> Tensor:
        """Logits of head ``name`` upsampled bilinearly to the input size.

        Args:
            name (str): ``'main'`` or ``'low'``.

        Returns:
            Tensor: Shape (B, C, H, W); computed once and cached.
        """
        if name not in self._resized:
            if name not in self.logits:
                raise KeyError(
                    f'no {name!r} output in this model (available: '
                    f'{sorted(self.logits)}); a multi-level term needs an '
                    'auxiliary_head (configs/_base_/models/'
                    'deeplabv2_r101_multi.py)')
            self._resized[name] = resize(
                self.logits[name],
                size=self.inputs.shape[2:],
                mode='bilinear',
                align_corners=self.align_corners)
        return self._resized[name]

    def detached(self) -> 'DomainOutputs':
        """The same outputs cut from the autograd graph.

        What a term's ``loss`` may read of the source after the source
        losses were back-propagated (the graph is released by then).

        Returns:
            DomainOutputs: Detached inputs, features and logits (sharing
            storage with these), same data samples.
        """
        if not self.has_forward:
            return DomainOutputs(
                self.inputs.detach(),
                None,
                None,
                self.align_corners,
                self.data_samples,
                shared=self.shared)
        out = DomainOutputs(
            self.inputs.detach(), tuple(f.detach() for f in self.feats),
            {k: v.detach()
             for k, v in self.logits.items()}, self.align_corners,
            self.data_samples, None if self.head_feature is None else
            self.head_feature.detach(), self.shared)
        out._resized = {k: v.detach() for k, v in self._resized.items()}
        return out

    def label_maps(self, reader: str, why: str) -> Tensor:
        """The data samples' ``gt_sem_seg`` stacked, checked against the
        image size.

        Args:
            reader (str): Who needs them (for error messages).
            why (str): What for (for error messages).

        Returns:
            Tensor: Labels, shape (B, H, W), int64.

        Raises:
            ValueError: If a sample has no ``gt_sem_seg`` or the labels and
                images differ in size.
        """
        if not self.data_samples or any('gt_sem_seg' not in s
                                        for s in self.data_samples):
            raise ValueError(f'{reader}: the data samples carry no '
                             f'gt_sem_seg ({why} needs the labels)')
        labels = torch.stack(
            [s.gt_sem_seg.data[0] for s in self.data_samples]).long()
        if labels.shape[1:] != self.inputs.shape[2:]:
            raise ValueError(
                f'{reader}: labels of size {tuple(labels.shape[1:])} but '
                f'images of size {tuple(self.inputs.shape[2:])}; {why} '
                'needs labels and images of one size (crop or pad both to '
                'one size)')
        return labels
