"""DACS: self-training on ClassMix-mixed images with mean-teacher
pseudo-labels."""
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.pseudo_label_weight import (QUALITY_SCOPES, pseudo_label_weight,
                                         quality_weight)
from ..utils.strong_augmentation import (CLASS_MIX_SCOPES, class_mix_masks,
                                         draw_strong_gates, mix,
                                         strong_transform)
from .domain_outputs import DomainOutputs
from .held_networks import HoldsNetworks
from .mean_teacher import MeanTeacher
from .student_reference import KeepsStudent


@MODELS.register_module()
class DACS(KeepsStudent, HoldsNetworks, BaseModule):
    """Domain adaptation via cross-domain mixed sampling (Tranheden et
    al., WACV 2021) as DAFormer, HRDA and MIC run it (METHODS.md sec. 7.1;
    the original DACS, sec. 7.10, through the options).

    One iteration (the segmentor has computed the source CE on its own
    source forward, ``L_src``)::

        teacher.update(student)              # EMA, first act (step 1)
        p = softmax(up(teacher(x_t)))        # un-augmented target, fp32
        p̂, ŷ = max_c p, argmax_c p
        w_t = q (share of p̂ >= 0.968), band rows zeroed      (step 6)
        M = ClassMix(y_s)                    # per image        (step 7)
        x_m = M·x_s + (1−M)·x_t;  y_m = M·y_s + (1−M)·ŷ;  w_m = M + (1−M)·w_t
        x_m = blur(jitter(x_m))              # gates drawn once (step 8)
        loss_mix = mean over B·H·W of w_m · CE(up(student(x_m)), y_m)

    The mixed batch is a student forward of its own (BN statistics and
    DropPath draws of that batch, step 9), run through the segmentor's
    ``forward_domain`` inside ``loss``, i.e. inside DDP's forward. The
    student does not run on the plain target batch
    (``needs_target_forward = False``): alone, DACS has two student forwards
    per iteration (source, mixed); with a term that needs the target
    outputs (e.g. MaxSquare's) the segmentor runs that third forward.

    The teacher (:class:`MeanTeacher`: EMA of the student's parameters,
    dropout/DropPath off, BatchNorm on the batch's statistics) is built by
    :meth:`attach` and held outside the module tree
    (:class:`HoldsNetworks`): it is in no optimiser and not in DDP's
    parameters or buffers, yet it and its counter ``t`` are in every
    checkpoint (``uda_terms.<i>.teacher.*``), so ``--resume`` continues it.
    A ``load_from`` without teacher keys (a source-only model) leaves
    ``t = 0``: the first iteration copies the loaded student.

    The teacher's pseudo-label ``ŷ`` and weight ``w_t`` of the target
    batch, before ClassMix, are published in ``target.shared``
    (:class:`SharedResults`) as ``'pseudo_label'`` and ``'pseudo_weight'``
    for later terms (MIC, sec. 7.6).

    Randomness comes from torch's default generators only (ClassMix
    choice and blur sigma on the device, the two gates and the jitter order
    on the CPU), which ``IterationSeedHook`` seeds per iteration; nothing
    in the term reads a device value on the host.

    Args:
        alpha (float): EMA rate. Defaults to 0.999 (DAFormer; 0.99 in the
            original DACS).
        ema_update (str): ``'before'`` (DAFormer: update at the start of
            iteration t with index t) or ``'after'`` (original DACS: after
            the step of iteration t, index t). Defaults to 'before'.
        pseudo_threshold (float): Confidence threshold of q. Defaults to
            0.968.
        quality_scope (str): ``'batch'`` (one q, released) or ``'image'``.
            Defaults to 'batch'.
        pseudo_weight_ignore_top (int): Crop rows with weight 0 at the top
            (15 in DAFormer's "pseudo-label crop"). Defaults to 0.
        pseudo_weight_ignore_bottom (int): Likewise at the bottom (120).
            Defaults to 0.
        classmix_scope (str): ClassMix candidates: ``'batch'`` (DAFormer's
            release: the whole batch's classes, 255 included), ``'image'``
            (per image, 255 removed: the original DACS as METHODS.md sec.
            7.10 states it) or ``'image_with_ignore'`` (per image, 255
            kept: the original DACS's released code). Defaults to 'batch'.
        color_jitter_p (float): The jitter gate: jitter iff ``u > p``,
            ``u ~ U(0, 1)`` once per iteration. Defaults to 0.2.
        color_jitter_strength (float): Kornia ColorJitter strength.
            Defaults to 0.2 (DAFormer; 0.25 in the original DACS).
        blur (bool): Gaussian blur with probability 0.5. Defaults to True.
        blur_sigma (tuple[float, float]): Range of the blur sigma.
            Defaults to (0.15, 1.15).
        mix_loss (dict): Loss on the mixed batch, called with the pixel
            weights. Defaults to mmseg's ``CrossEntropyLoss`` with
            ``avg_non_ignore=False``: the mean over all B·H·W pixels,
            ignored ones included (sec. 7.1 step 3), named ``loss_mix``.
        ignore_index (int): Ignore label. Defaults to 255.
        init_cfg (dict, optional): Initialization config.
    """

    #: The segmentor need not run the student on the plain target batch.
    needs_target_forward = False
    #: Published in ``target.shared`` every iteration (before ClassMix):
    #: ``ŷ`` (B, H, W) int64 and ``w_t`` (B, H, W) float32.
    publishes = ('pseudo_label', 'pseudo_weight')

    def __init__(self,
                 alpha: float = 0.999,
                 ema_update: str = 'before',
                 pseudo_threshold: float = 0.968,
                 quality_scope: str = 'batch',
                 pseudo_weight_ignore_top: int = 0,
                 pseudo_weight_ignore_bottom: int = 0,
                 classmix_scope: str = 'batch',
                 color_jitter_p: float = 0.2,
                 color_jitter_strength: float = 0.2,
                 blur: bool = True,
                 blur_sigma: Sequence[float] = (0.15, 1.15),
                 mix_loss: Optional[dict] = None,
                 ignore_index: int = 255,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if quality_scope not in QUALITY_SCOPES:
            raise ValueError(f'DACS: quality_scope must be one of '
                             f'{list(QUALITY_SCOPES)}, got {quality_scope!r}')
        if classmix_scope not in CLASS_MIX_SCOPES:
            raise ValueError(
                f'DACS: classmix_scope must be one of '
                f'{list(CLASS_MIX_SCOPES)}, got {classmix_scope!r}')
        if pseudo_weight_ignore_top < 0 or pseudo_weight_ignore_bottom < 0:
            raise ValueError(
                'DACS: pseudo_weight_ignore_top/bottom must be >= 0, got '
                f'{pseudo_weight_ignore_top}, {pseudo_weight_ignore_bottom}')
        if len(blur_sigma) != 2 or not 0 < blur_sigma[0] <= blur_sigma[1]:
            raise ValueError('DACS: blur_sigma must be (low, high) with '
                             f'0 < low <= high, got {blur_sigma!r}')
        self.alpha = alpha
        self.ema_update = ema_update
        self.pseudo_threshold = pseudo_threshold
        self.quality_scope = quality_scope
        self.ignore_top = pseudo_weight_ignore_top
        self.ignore_bottom = pseudo_weight_ignore_bottom
        self.classmix_scope = classmix_scope
        self.color_jitter_p = color_jitter_p
        self.color_jitter_strength = color_jitter_strength
        self.blur = blur
        self.blur_sigma = tuple(blur_sigma)
        self.ignore_index = ignore_index
        self.mix_loss = MODELS.build(mix_loss or dict(
            type='CrossEntropyLoss',
            loss_weight=1.0,
            avg_non_ignore=False,
            loss_name='loss_mix'))
        # checked at build time, not only when attached
        MeanTeacher.check_options(alpha, ema_update)

    # --- the segmentor and the teacher ---

    def attach(self, segmentor: nn.Module) -> None:
        """Keep the segmentor (for the mixed forward) and build the teacher
        as a copy of its network."""
        self.keep_student(segmentor)
        self.hold('teacher', MeanTeacher(segmentor, self.alpha,
                                         self.ema_update))

    @property
    def teacher(self) -> MeanTeacher:
        """The mean teacher."""
        return self.held('teacher')

    # --- the steps ---

    def pseudo_labels(self, inputs: Tensor):
        """Teacher pseudo-labels and their pixel weights (steps 5-6).

        Args:
            inputs (Tensor): Normalised, un-augmented target images,
                (B, 3, H, W).

        Returns:
            tuple[Tensor, Tensor, Tensor]: ``ŷ`` (B, H, W) int64, ``w_t``
            (B, H, W) float32 and the logged quality (mean q), a scalar.
        """
        segmentor = self.segmentor
        if segmentor.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        logits = self.teacher(inputs)
        # fp32 (also under autocast): the 0.968 test is a fine one
        logits = resize(
            logits.float(),
            size=inputs.shape[2:],
            mode='bilinear',
            align_corners=segmentor.align_corners)
        max_prob, labels = F.softmax(logits, dim=1).max(dim=1)
        weight = pseudo_label_weight(max_prob, self.pseudo_threshold,
                                     self.quality_scope, self.ignore_top,
                                     self.ignore_bottom)
        return labels, weight, quality_weight(max_prob,
                                              self.pseudo_threshold)

    def loss(self, source: DomainOutputs,
             target: DomainOutputs) -> Dict[str, Tensor]:
        """The mixed loss of one iteration.

        Args:
            source (DomainOutputs): Source outputs (only its images and
                labels are read).
            target (DomainOutputs): Target images (no forward needed);
                ``ŷ`` and ``w_t`` are published in its ``shared``.

        Returns:
            dict[str, Tensor]: ``loss_mix`` and the logged pseudo-label
            quality ``pseudo_quality`` (the confident share, not a loss).
        """
        segmentor = self.segmentor
        teacher = self.teacher
        # step 1, before anything else of the iteration
        teacher.update(teacher.mirrored(segmentor))
        x_s, x_t = source.inputs.detach(), target.inputs
        if x_s.shape != x_t.shape:
            raise ValueError(
                f'DACS: source images {tuple(x_s.shape)} and target images '
                f'{tuple(x_t.shape)} differ in shape; ClassMix needs crops '
                'of one size and batches of one size in both domains')
        y_s = source.label_maps('DACS', 'ClassMix')
        y_t, w_t, quality = self.pseudo_labels(x_t)
        # before mixing: MIC trains on the un-mixed target (sec. 7.6)
        target.shared.publish('pseudo_label', y_t, by='DACS')
        target.shared.publish('pseudo_weight', w_t, by='DACS')
        masks = class_mix_masks(y_s, self.classmix_scope, self.ignore_index)
        x_m = mix(masks, x_s, x_t)
        y_m = mix(masks, y_s, y_t)
        w_m = mix(masks, torch.ones_like(w_t), w_t)
        jitter, blur = draw_strong_gates(self.color_jitter_p, self.blur)
        preprocessor = segmentor.data_preprocessor
        x_m = strong_transform(
            x_m,
            preprocessor.mean,
            preprocessor.std,
            jitter,
            blur,
            strength=self.color_jitter_strength,
            sigma_range=self.blur_sigma,
            per_image_sigma=True)
        mixed = segmentor.forward_domain(x_m)
        loss = self.mix_loss(
            mixed.resized('main').float(),
            y_m,
            weight=w_m,
            ignore_index=self.ignore_index)
        return {self.mix_loss.loss_name: loss, 'pseudo_quality': quality}
