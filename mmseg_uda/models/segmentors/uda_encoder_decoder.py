"""Encoder-decoder segmentor trained on a labelled source and an unlabelled
target domain."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.distributed as dist
from mmengine.model import ModuleList
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import SampleList, add_prefix
from torch import Tensor

from ...engine.optimizers import active_optim_wrapper, backward_now
from ..uda.domain_outputs import DomainOutputs
from ..uda.shared_results import check_shared_results
from ..utils.detached_accuracy import accuracy_stride


@MODELS.register_module()
class UDAEncoderDecoder(EncoderDecoder):
    """EncoderDecoder with two-domain training and pluggable target terms.

    Inference (``predict``, ``tensor`` mode, test time augmentation) is
    plain :class:`EncoderDecoder`. Training on a two-domain batch
    (``inputs=dict(source=..., target=...)`` from
    :class:`UDADataPreProcessor`) returns the source segmentation losses
    (main head, plus the auxiliary "low" head when configured) and the
    losses of every term in ``uda_terms``. Everything is one loss dict, so
    MMEngine's default ``train_step`` (also under
    ``MMDistributedDataParallel``, which never calls a model's own
    ``train_step``) does one backward pass and steps the optimiser(s).

    A term is a registered module with
    ``loss(source: DomainOutputs, target: DomainOutputs) -> dict`` and,
    optionally, ``source_loss(source: DomainOutputs) -> dict``. Losses that
    back-propagate through the *source* graph belong in ``source_loss``
    (computed before the target forward); ``loss`` may read source outputs
    only detached (e.g. a discriminator's source input), so that the source
    graph can be released before the target's is built. Terms
    owning extra networks (discriminators) hold them as submodules, so they
    are saved, synchronised by DDP and can get their own optimiser through
    :class:`MultiOptimWrapperConstructor`. A term with ``attach(segmentor)``
    gets it called once after construction (to copy the network, as CAG's
    frozen prediction model, DACS's mean teacher, or to keep the
    segmentor for further student forwards: DACS's mixed batch runs through
    :meth:`forward_domain` inside ``loss``, hence inside DDP's forward).
    The network runs on the target batch unless every term declares
    ``needs_target_forward = False`` (a class attribute; absent means
    True): DACS trains on mixed images only, so DACS alone has two student
    forwards per iteration (source, mixed) and DACS + MaxSquare three; the
    terms then get :meth:`DomainOutputs.inputs_only` target outputs (images
    and data samples). Terms share per-iteration results through the
    target outputs' ``shared`` store (:class:`SharedResults`): a term
    declaring ``publishes = (keys)`` writes them, a later one declaring
    ``reads = (keys)`` reads them (DACS publishes its pseudo-label and
    weight, MIC reads them); a term list that reads a key before or
    without its publisher is refused when the model is built. A
    single-domain training batch
    (a plain tensor) is trained with the source losses only, which is what
    source-only and self-training configs use.

    Args:
        uda_terms (list[dict]): Configs of the target terms, e.g.
            ``[dict(type='TargetOutputLoss', loss=dict(type='MaxSquareLoss',
            loss_weight=0.1))]``. Defaults to none (source only).
        logit_temperature (float): Training logits of every head are divided
            by this before any loss (FADA's T = 1.8 also scales the source
            CE). Inference is unaffected. Defaults to 1.0.
        backward_per_domain (bool): In a train step (an optimiser
            wrapper's ``optim_context`` is open), back-propagate the source
            losses before the target forward and release the source graph,
            as the released loops do: the peak memory is that of the larger
            domain, not of both. The gradients equal those of the one
            backward pass (the summed loss); the returned source losses are
            then detached (for logging) and the final backward of
            ``update_params`` covers the target terms. When no term needs
            the target forward (DACS, MIC), every term's graph is its own
            and each term but the last is back-propagated as soon as its
            losses are computed (DACS's mixed graph is released before
            MIC's masked forward, as the release's separate backwards).
            Under DDP these early gradients accumulate locally and are
            all-reduced with the final backward's. False keeps every graph
            until one backward. Defaults to True.
        channels_last (bool): Keep the 4-D weights and the backbone's input
            in channels-last memory format (NHWC; faster convolutions with
            cuDNN, above all under bf16/fp16 autocast). Same maths, float
            rounding aside. Defaults to False.
        acc_seg_stride (int): The logged ``acc_seg`` of the source losses
            is measured on every ``s``-th pixel in each direction
            (``s**2`` times fewer pixels: an estimate, cheaper than mmseg's
            top-k over the full-resolution logits). 1 = mmseg's exact
            value. Losses are unaffected. Defaults to 1.
        **kwargs: Arguments of :class:`EncoderDecoder`.
    """

    def __init__(self,
                 uda_terms: Sequence[dict] = (),
                 logit_temperature: float = 1.0,
                 backward_per_domain: bool = True,
                 channels_last: bool = False,
                 acc_seg_stride: int = 1,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if acc_seg_stride < 1:
            raise ValueError(
                f'acc_seg_stride must be >= 1, got {acc_seg_stride}')
        self.acc_seg_stride = acc_seg_stride
        self.channels_last = channels_last
        if logit_temperature <= 0:
            raise ValueError(
                f'logit_temperature must be > 0, got {logit_temperature}')
        self.logit_temperature = logit_temperature
        self.backward_per_domain = backward_per_domain
        # MMEngine's ModuleList: init_weights reaches the terms (a torch
        # ModuleList has no init_weights, so BaseModule's skips it and the
        # terms' init_cfg would never apply).
        self.uda_terms = ModuleList(
            [MODELS.build(term) for term in uda_terms])
        # e.g. MIC reads DACS's pseudo-labels: DACS must come first
        check_shared_results(self.uda_terms)
        for term in self.uda_terms:
            # A term that needs a copy of the network (CAG's frozen
            # prediction model) builds it here, before any weights load.
            if hasattr(term, 'attach'):
                term.attach(self)
        if channels_last:
            # The format survives weight init, checkpoint loading (copy_)
            # and .to(device).
            self.to(memory_format=torch.channels_last)

    def extract_feat(self, inputs: Tensor) -> List[Tensor]:
        """Backbone (and neck) features, from a channels-last copy of the
        images when ``channels_last``."""
        if self.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return super().extract_feat(inputs)

    def forward_domain(
            self,
            inputs: Tensor,
            data_samples: Optional[SampleList] = None) -> DomainOutputs:
        """Run the backbone and every head once on one domain's images.

        Args:
            inputs (Tensor): Normalised images, shape (B, 3, H, W).
            data_samples (list[SegDataSample], optional): Their samples,
                kept in the outputs for the terms.

        Returns:
            DomainOutputs: Features and head logits.
        """
        feats = self.extract_feat(inputs)
        head_feature = None
        if getattr(self.decode_head, 'exposes_feature', False):
            # The classifier's input (e.g. CAG's anchor space), kept.
            head_feature = self.decode_head._forward_feature(feats)
            logits = {'main': self.decode_head.cls_seg(head_feature)}
        else:
            logits = {'main': self.decode_head(feats)}
        if self.with_auxiliary_head:
            logits['low'] = self.auxiliary_head(feats)
        if self.logit_temperature != 1.0:
            logits = {k: v / self.logit_temperature for k, v in logits.items()}
        return DomainOutputs(inputs, feats, logits, self.align_corners,
                             data_samples, head_feature)

    def source_losses(self, source: DomainOutputs,
                      data_samples: SampleList) -> Dict[str, Tensor]:
        """Supervised cross-entropy of every head on labelled images.

        Args:
            source (DomainOutputs): Outputs on the labelled images.
            data_samples (list[SegDataSample]): Their ground truth.

        Returns:
            dict[str, Tensor]: ``decode.*`` and, if multi-level, ``aux.*``.
        """
        with accuracy_stride(self.acc_seg_stride):
            return self._source_losses(source, data_samples)

    def _source_losses(self, source: DomainOutputs,
                       data_samples: SampleList) -> Dict[str, Tensor]:
        losses = add_prefix(
            self.decode_head.loss_by_feat(source.logits['main'],
                                          data_samples), 'decode')
        if 'low' in source.logits:
            losses.update(
                add_prefix(
                    self.auxiliary_head.loss_by_feat(source.logits['low'],
                                                     data_samples), 'aux'))
        return losses

    def loss(self, inputs: Union[Tensor, Dict[str, Tensor]],
             data_samples: Union[SampleList, Dict[str, SampleList]]
             ) -> Dict[str, Tensor]:
        """Losses of one training batch.

        Args:
            inputs (Tensor | dict[str, Tensor]): Images, shape (B, 3, H, W),
                or such tensors keyed ``source`` and ``target``.
            data_samples (list | dict[str, list]): Matching data samples
                (the target's carry no labels).

        Returns:
            dict[str, Tensor]: Source losses prefixed ``src.`` and target
            terms' losses prefixed ``tgt.`` for two-domain batches; plain
            source losses for a single-domain batch.
        """
        if not isinstance(inputs, dict):
            return self.source_losses(
                self.forward_domain(inputs, data_samples), data_samples)
        source = self.forward_domain(inputs['source'], data_samples['source'])
        losses = add_prefix(
            self.source_losses(source, data_samples['source']), 'src')
        for term in self.uda_terms:
            if hasattr(term, 'source_loss'):
                losses.update(add_prefix(term.source_loss(source), 'src'))
        if len(self.uda_terms) == 0:
            return losses
        wrapper = active_optim_wrapper()
        early_backward = (self.backward_per_domain and wrapper is not None
                          and torch.is_grad_enabled())
        if early_backward:
            losses = self._backward_now(losses, wrapper)
            source = source.detached()
        if any(
                getattr(term, 'needs_target_forward', True)
                for term in self.uda_terms):
            target = self.forward_domain(inputs['target'],
                                         data_samples['target'])
        else:
            target = DomainOutputs.inputs_only(inputs['target'],
                                               self.align_corners,
                                               data_samples['target'])
        last = len(self.uda_terms) - 1
        for index, term in enumerate(self.uda_terms):
            term_losses = add_prefix(term.loss(source, target), 'tgt')
            if early_backward and index < last and not target.has_forward:
                # Without a target forward every term's graph is its own
                # (its own student forwards; source detached, shared
                # results carry no gradient): release it before the next
                # term's forward (DACS's mixed batch before MIC's masked
                # one, as the release's separate backwards).
                term_losses = self._backward_now(term_losses, wrapper)
            losses.update(term_losses)
        return losses

    def _backward_now(self, losses: Dict[str, Tensor],
                      wrapper) -> Dict[str, Tensor]:
        """Back-propagate the summed ``losses`` now (as the optimiser
        wrapper's own backward would) and return them detached."""
        total, _ = self.parse_losses(losses)
        if not total.requires_grad:
            return losses
        backward_now(total, wrapper)
        detached = {
            k: [x.detach() for x in v] if isinstance(v, list) else v.detach()
            for k, v in losses.items()
        }
        # (DDP keeps this bookkeeping with a single process too.)
        if dist.is_available() and dist.is_initialized():
            # DDP all-reduces a parameter's gradient when the final backward
            # reaches it; parameters trained by the source losses alone
            # (FADA's classifier, a depth head) would be skipped (or make
            # DDP fail). A zero term through each of them lets the final
            # backward reduce their locally accumulated source gradients.
            anchor = torch.stack([
                p.sum() for p in self.parameters() if p.grad is not None
            ]).sum() * 0.0
            key = next(k for k in detached if 'loss' in k)
            detached[key] = detached[key] + anchor
        return detached
