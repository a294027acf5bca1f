"""MIC: masked image consistency on the mean teacher's pseudo-labels."""
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor, nn

from ..utils.block_mask import mask_images
from ..utils.strong_augmentation import draw_strong_gates, strong_transform
from .domain_outputs import DomainOutputs
from .student_reference import KeepsStudent

#: Which images are masked: the target batch (``separatetrg*``) or source
#: image 0 with target image 0 (``separate*``); ``aug``: colour-augmented.
MIC_MODES = ('separatetrgaug', 'separatetrg', 'separate', 'separateaug')


@MODELS.register_module()
class MaskedImageConsistency(KeepsStudent, BaseModule):
    """Masked image consistency (Hoyer et al., CVPR 2023) as a term that
    stacks on :class:`DACS` (METHODS.md sec. 7.6, step 10 of sec. 7.1).

    One iteration, after DACS's mixed loss (mode ``'separatetrgaug'``)::

        ŷ, w_t = target.shared            # DACS's, before ClassMix
        x = blur(jitter(copy of x_t))     # own gates, blur always drawn,
                                          # one order and one σ per batch
        x = x · M,  M_ij = 1 iff U(0,1) > r on a round(H/b) x round(W/b)
                    grid, nearest-upsampled (0 = the mean colour)
        loss_mic = mean over B·H·W of w_t · CE(up(student(x)), ŷ)

    The pseudo-label ``ŷ`` (the teacher's argmax on the full, un-augmented,
    unmasked target crop) and the weight map ``w_t`` (q with the crop-row
    band zeroed) are DACS's, read from the target's shared results
    (:class:`SharedResults`): no second teacher forward (the release's
    ``mask_alpha = mask_pseudo_threshold = 'same'``). A DACS term must come
    before this one in ``model.uda_terms`` (checked when the model is
    built). The masked batch is a student forward of its own (its BN batch
    statistics and DropPath draws), through the segmentor's
    ``forward_domain``, inside DDP's forward. No forward on the plain
    target batch is needed (``needs_target_forward = False``).

    Modes: ``'separatetrgaug'`` (GTA/SYNTHIA -> Cityscapes): the target
    batch, colour-augmented; ``'separate'`` (Cityscapes -> ACDC/DarkZurich):
    source image 0 with its label (weight 1) and target image 0 with
    ``ŷ``/``w_t`` of image 0, not augmented; ``'separatetrg'`` and
    ``'separateaug'`` are the release's other two combinations.

    Randomness comes from torch's default generators only (the two gates
    and the jitter order on the CPU, jitter factors, σ and the mask cells on
    the images' device), which ``IterationSeedHook`` seeds per iteration;
    nothing is read back from the device.

    Args:
        mode (str): One of :data:`MIC_MODES`. Defaults to
            'separatetrgaug'.
        mask_ratio (float): ``r``, the expected masked share of the cells.
            Defaults to 0.7.
        mask_block_size (int): ``b`` in pixels (64 for MIC(HRDA)'s 1024
            crops, 32 for MIC(DAFormer)'s 512 crops). Defaults to 64.
        color_jitter_p (float): Jitter iff ``u > p``, ``u ~ U(0, 1)`` drawn
            per iteration. Defaults to 0.2.
        color_jitter_strength (float): Kornia ColorJitter strength.
            Defaults to 0.2.
        blur_sigma (tuple[float, float]): Range of the blur σ (the blur
            gate, p 0.5, is drawn whatever DACS's ``blur``). Defaults to
            (0.15, 1.15).
        masked_loss (dict): Loss on the masked batch, called with the pixel
            weights; its ``loss_weight`` is λ_MIC. Defaults to mmseg's
            ``CrossEntropyLoss(avg_non_ignore=False)`` (mean over all B·H·W
            pixels), λ 1, named ``loss_mic``.
        ignore_index (int): Ignore label. Defaults to 255.
        init_cfg (dict, optional): Initialization config.
    """

    needs_target_forward = False
    #: Read from ``target.shared`` (published by DACS).
    reads = ('pseudo_label', 'pseudo_weight')

    def __init__(self,
                 mode: str = 'separatetrgaug',
                 mask_ratio: float = 0.7,
                 mask_block_size: int = 64,
                 color_jitter_p: float = 0.2,
                 color_jitter_strength: float = 0.2,
                 blur_sigma: Sequence[float] = (0.15, 1.15),
                 masked_loss: Optional[dict] = None,
                 ignore_index: int = 255,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in MIC_MODES:
            raise ValueError(f'MaskedImageConsistency: mode must be one of '
                             f'{list(MIC_MODES)}, got {mode!r}')
        if not 0 <= mask_ratio < 1:
            raise ValueError('MaskedImageConsistency: mask_ratio must be in '
                             f'[0, 1), got {mask_ratio}')
        if int(mask_block_size) != mask_block_size or mask_block_size < 1:
            raise ValueError('MaskedImageConsistency: mask_block_size must '
                             f'be a positive integer, got {mask_block_size}')
        if len(blur_sigma) != 2 or not 0 < blur_sigma[0] <= blur_sigma[1]:
            raise ValueError('MaskedImageConsistency: blur_sigma must be '
                             '(low, high) with 0 < low <= high, got '
                             f'{blur_sigma!r}')
        self.mode = mode
        self.mask_ratio = mask_ratio
        self.mask_block_size = int(mask_block_size)
        self.color_jitter_p = color_jitter_p
        self.color_jitter_strength = color_jitter_strength
        self.blur_sigma = tuple(blur_sigma)
        self.ignore_index = ignore_index
        self.masked_loss = MODELS.build(masked_loss or dict(
            type='CrossEntropyLoss',
            loss_weight=1.0,
            avg_non_ignore=False,
            loss_name='loss_mic'))

    def attach(self, segmentor: nn.Module) -> None:
        """Keep the segmentor (for the masked forward)."""
        self.keep_student(segmentor)

    def masked_batch(self, source: DomainOutputs,
                     target: DomainOutputs) -> Tuple[Tensor, Tensor, Tensor]:
        """The images to mask, their labels and pixel weights, before the
        colour augmentation.

        Args:
            source (DomainOutputs): Source images and labels (``separate``
                modes).
            target (DomainOutputs): Target images; ``pseudo_label`` and
                ``pseudo_weight`` in its ``shared``.

        Returns:
            tuple[Tensor, Tensor, Tensor]: Images (N, 3, H, W), labels
            (N, H, W) int64, weights (N, H, W) float32; N = B for the
            ``separatetrg`` modes, 2 for the ``separate`` ones.
        """
        name = type(self).__name__
        labels = target.shared.get('pseudo_label', reader=name)
        weights = target.shared.get('pseudo_weight', reader=name)
        images = target.inputs
        if not self.mode.startswith('separatetrg'):
            source_labels = source.label_maps(name, f'mode {self.mode!r}')
            if source.inputs.shape[1:] != images.shape[1:]:
                raise ValueError(
                    f'{name}: source images {tuple(source.inputs.shape)} and '
                    f'target images {tuple(images.shape)} differ in size; '
                    f'mode {self.mode!r} batches one of each')
            images = torch.cat([source.inputs[:1].detach(), images[:1]])
            labels = torch.cat([source_labels[:1], labels[:1]])
            weights = torch.cat([torch.ones_like(weights[:1]), weights[:1]])
        return images, labels, weights

    def loss(self, source: DomainOutputs,
             target: DomainOutputs) -> Dict[str, Tensor]:
        """The masked loss of one iteration.

        Args:
            source (DomainOutputs): Source outputs (read detached; only the
                ``separate`` modes use them).
            target (DomainOutputs): Target images and DACS's shared
                pseudo-labels.

        Returns:
            dict[str, Tensor]: ``loss_mic``.
        """
        segmentor = self.segmentor
        images, labels, weights = self.masked_batch(source, target)
        if self.mode.endswith('aug'):
            jitter, blur = draw_strong_gates(self.color_jitter_p, blur=True)
            preprocessor = segmentor.data_preprocessor
            # a new tensor: the shared target images stay as they are
            images = strong_transform(
                images,
                preprocessor.mean,
                preprocessor.std,
                jitter,
                blur,
                strength=self.color_jitter_strength,
                sigma_range=self.blur_sigma,
                per_image_sigma=False,
                per_image_jitter=False)
        images = mask_images(images, self.mask_block_size, self.mask_ratio)
        masked = segmentor.forward_domain(images)
        loss = self.masked_loss(
            masked.resized('main').float(),
            labels,
            weight=weights,
            ignore_index=self.ignore_index)
        return {self.masked_loss.loss_name: loss}
