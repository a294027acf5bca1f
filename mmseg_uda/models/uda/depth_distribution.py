"""Depth-distribution UDA (Wu et al., NeurIPS 2022): depth and density
heads, GMM density targets, berHu balance and depth losses, and the
entropy x density discriminator."""
import math
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ..losses.berhu_loss import berhu_loss
from ..utils.cell_centres import sample_cell_centres
from ..utils.class_gmm_density import ClassGMMDensity
from ..utils.frozen_call import frozen_call
from .domain_outputs import DomainOutputs

SOURCE, TARGET = 0, 1


def normalised_entropy_map(probs: Tensor) -> Tensor:
    """Per-channel ``-p * log2(p + 1e-30) / log2(C)`` (METHODS.md 6.3).

    Args:
        probs (Tensor): Softmax probabilities, shape (B, C, H, W).

    Returns:
        Tensor: Same shape.
    """
    return -probs * torch.log2(probs + 1e-30) / math.log2(probs.shape[1])


@MODELS.register_module()
class DepthDistribution(BaseModule):
    """The depth-distribution term (METHODS.md sec. 5, 6.2, 6.3).

    Two :class:`ChannelMeanRegressionHead` s on the backbone's layer4
    feature (``feats[feature_index]``, stride 8) predict depth ``dep`` and
    density ``den``; :class:`ClassGMMDensity` gives the density targets
    from the per-class GMMs fitted by ``tools/fit_depth_gmm.py``; a
    :class:`FullyConvDiscriminator` D scores ``H(p) * up(den)`` at the
    image size (H: :func:`normalised_entropy_map`, up: bilinear,
    ``align_corners=True``). With ``y`` the class argmax of the stride-8
    logits (detached)::

        source_loss:
          loss_bal_src = w_bs * berHu(den_s, D(y_s, d_gt * [gt == y_s]))
          loss_depth   = w_d  * berHu(up(dep_s), d_gt)
        loss:
          loss_bal_tgt = w_bt * berHu(den_t, D(y_t, dep_t.detach()))
                         (target 0 where dep_t <= 0)
          loss_adv  = w_adv * BCE(D(H(p_t) * up(den_t)), 0)     # D frozen
          loss_disc = w_D * (BCE(D(m_s.detach()), 0)
                             + BCE(D(m_t.detach()), 1))

    ``d_gt`` is the source's ``gt_depth_map`` (``LoadSynthiaDepth``) and
    ``gt`` its label; for the density target both are read at the centres
    of the grid's cells in the input-size frame (Pillow's nearest resize,
    :func:`sample_cell_centres`), and class ``y_s``'s mixture is evaluated
    at ``d_gt`` where the label agrees with ``y_s`` and at depth 0 where it
    does not (ignore included), as the release does (METHODS.md sec. 6.4;
    no ``d > 0`` mask on the source side). The source CE
    (class-weighted) is the decode head's loss. ``loss_adv`` is computed by
    a functional call of D on detached parameters (no gradient reaches D;
    the released code freezes D for that backward); ``loss_disc`` reads
    detached maps. Summed with the source losses into one backward and
    followed by both optimisers' steps, this equals the released order (G
    source backward, G target backward, D backward, both steps).

    Args:
        num_classes (int): Classes of the segmentor.
        gmm_file (str, optional): GMM file (see :class:`ClassGMMDensity`).
        grid_size (tuple[int], optional): (W, H) the GMM file must have.
        num_components (int): GMM components per class. Defaults to 5.
        in_channels (int): Channels of the feature the heads read.
            Defaults to 2048.
        depth_head (dict, optional): Head config; defaults to
            ``ChannelMeanRegressionHead(in_channels)``.
        density_head (dict, optional): Same, for the density.
        discriminator (dict, optional): Defaults to
            ``FullyConvDiscriminator(in_channels=num_classes)``; give it its
            own optimiser with ``modules=['uda_terms.<i>.discriminator']``.
        source_balance_weight (float): w_bs. Defaults to 0.01.
        depth_weight (float): w_d. Defaults to 0.005.
        target_balance_weight (float): w_bt. Defaults to 0.05.
        adv_weight (float): w_adv. Defaults to 0.05.
        disc_weight (float): w_D, per domain. Defaults to 1.0: the
            release sums the two domains' BCEs unhalved (METHODS.md 6.4);
            under Adam this is not a neutral rescaling of 0.5.
        berhu_ratio (float): berHu's ``c / max(e)``. Defaults to 0.2.
        feature_index (int): Backbone output of the heads. Defaults to 3.
        align_corners (bool): Of every upsampling. Defaults to True.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 num_classes: int,
                 gmm_file: Optional[str] = None,
                 grid_size: Optional[tuple] = None,
                 num_components: int = 5,
                 in_channels: int = 2048,
                 depth_head: Optional[dict] = None,
                 density_head: Optional[dict] = None,
                 discriminator: Optional[dict] = None,
                 source_balance_weight: float = 0.01,
                 depth_weight: float = 0.005,
                 target_balance_weight: float = 0.05,
                 adv_weight: float = 0.05,
                 disc_weight: float = 1.0,
                 berhu_ratio: float = 0.2,
                 feature_index: int = 3,
                 align_corners: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        head = dict(type='ChannelMeanRegressionHead', in_channels=in_channels)
        self.depth_head = MODELS.build(depth_head or head)
        self.density_head = MODELS.build(density_head or head)
        self.discriminator = MODELS.build(
            discriminator
            or dict(type='FullyConvDiscriminator', in_channels=num_classes))
        d_in = getattr(self.discriminator, 'in_channels', num_classes)
        if d_in != num_classes:
            raise ValueError(
                f'DepthDistribution: the discriminator reads {d_in} '
                f'channels but the segmentor has {num_classes} classes')
        self.gmm = ClassGMMDensity(gmm_file, num_classes, num_components,
                                   grid_size)
        self.num_classes = num_classes
        self.source_balance_weight = source_balance_weight
        self.depth_weight = depth_weight
        self.target_balance_weight = target_balance_weight
        self.adv_weight = adv_weight
        self.disc_weight = disc_weight
        self.berhu_ratio = berhu_ratio
        self.feature_index = feature_index
        self.align_corners = align_corners
        # Detached source map of D, from source_loss to loss of one step.
        self._source_map: Optional[Tensor] = None

    def _up(self, x: Tensor, size) -> Tensor:
        return F.interpolate(
            x, size=size, mode='bilinear', align_corners=self.align_corners)

    def _heads(self, outputs: DomainOutputs):
        feats = outputs.feats
        if not -len(feats) <= self.feature_index < len(feats):
            raise IndexError(
                f'DepthDistribution: feature_index={self.feature_index} but '
                f'the backbone returns {len(feats)} outputs')
        feat = feats[self.feature_index]
        return self.depth_head(feat), self.density_head(feat)

    def _grid_classes(self, outputs: DomainOutputs, grid) -> Tensor:
        """Argmax of the main logits on the stride-8 grid, (B, h, w)."""
        logits = outputs.logits['main'].detach()
        if logits.shape[2:] != grid:
            logits = self._up(logits, grid)
        return logits.argmax(dim=1)

    def _map(self, outputs: DomainOutputs, density: Tensor) -> Tensor:
        """D's input ``H(p) * up(den)`` at the image size."""
        size = outputs.inputs.shape[2:]
        probs = F.softmax(outputs.resized('main').float(), dim=1)
        return normalised_entropy_map(probs) * self._up(density.float(), size)

    @staticmethod
    def _gt_depth(source: DomainOutputs) -> Tensor:
        samples = source.data_samples or []
        missing = [
            s.metainfo.get('img_path', i) for i, s in enumerate(samples)
            if 'gt_depth_map' not in s
        ]
        if not samples or missing:
            raise KeyError(
                'DepthDistribution: source samples without gt_depth_map '
                f'({missing or "no data samples"}); the source pipeline '
                'needs LoadSynthiaDepth and SynthiaDataset(with_depth=True)')
        gt_depth = torch.stack([s.gt_depth_map.data
                                for s in samples]).float()
        if gt_depth.shape[2:] != source.inputs.shape[2:]:
            raise ValueError(
                f'DepthDistribution: gt_depth_map {tuple(gt_depth.shape)} '
                f'does not match the images {tuple(source.inputs.shape)}')
        return gt_depth.to(source.inputs.device)

    def source_density_target(self, source: DomainOutputs, gt_depth: Tensor,
                              grid) -> Tensor:
        """The source's density target (METHODS.md sec. 5, 6.4).

        For each cell, with ``c`` its predicted class: class c's mixture at
        depth ``d * [gt == c]``, where ``d`` and the label ``gt`` are read
        at the cell's centre in the input-size frame (Pillow's nearest
        resize): 0 where prediction and label disagree (or the label is
        ignore), and evaluated there too.

        Args:
            source (DomainOutputs): Source outputs with ``gt_sem_seg``.
            gt_depth (Tensor): (B, 1, H, W) depth at the input size.
            grid (tuple[int, int]): (h, w) of the density head's output.

        Returns:
            Tensor: Targets, shape (B, 1, h, w), float32, no gradient.
        """
        labels = torch.stack(
            [s.gt_sem_seg.data[0] for s in source.data_samples])
        if labels.shape[1:] != gt_depth.shape[2:]:
            raise ValueError(
                f'DepthDistribution: gt_sem_seg {tuple(labels.shape)} does '
                f'not match gt_depth_map {tuple(gt_depth.shape)}')
        classes = self._grid_classes(source, grid)
        labels = sample_cell_centres(labels.to(classes.device), grid)
        depth = sample_cell_centres(gt_depth[:, 0], grid)
        return self.gmm(classes, depth.masked_fill(labels != classes, 0))

    def source_loss(self, source: DomainOutputs) -> Dict[str, Tensor]:
        """Source balance and depth losses (through the source graph).

        Args:
            source (DomainOutputs): Outputs on the labelled source images.

        Returns:
            dict[str, Tensor]: ``loss_bal_src`` and ``loss_depth``.
        """
        depth, density = self._heads(source)
        grid = tuple(density.shape[2:])
        gt_depth = self._gt_depth(source)
        target = self.source_density_target(source, gt_depth, grid)
        self._source_map = self._map(source, density).detach()
        size = source.inputs.shape[2:]
        return dict(
            loss_bal_src=self.source_balance_weight *
            berhu_loss(density, target, self.berhu_ratio),
            loss_depth=self.depth_weight *
            berhu_loss(self._up(depth, size), gt_depth, self.berhu_ratio))

    def loss(self, source: DomainOutputs,
             target: DomainOutputs) -> Dict[str, Tensor]:
        """Target balance, adversarial and discriminator losses.

        Args:
            source (DomainOutputs): Source outputs (only the detached map
                from :meth:`source_loss` is used).
            target (DomainOutputs): Outputs on the target images.

        Returns:
            dict[str, Tensor]: ``loss_bal_tgt``, ``loss_adv`` (segmentation
            network and heads only) and ``loss_disc`` (D only).
        """
        if self._source_map is None:
            raise RuntimeError('DepthDistribution.loss needs source_loss '
                               'first (UDAEncoderDecoder calls both)')
        source_map, self._source_map = self._source_map, None
        depth, density = self._heads(target)
        grid = tuple(density.shape[2:])
        depth_grid = depth.detach()[:, 0]
        dens_target = self.gmm(self._grid_classes(target, grid), depth_grid)
        dens_target = dens_target * (depth_grid > 0).unsqueeze(1)
        target_map = self._map(target, density)
        d_frozen = frozen_call(self.discriminator, target_map)
        d_s = self.discriminator(source_map)
        d_t = self.discriminator(target_map.detach())
        return dict(
            loss_bal_tgt=self.target_balance_weight *
            berhu_loss(density, dens_target, self.berhu_ratio),
            loss_adv=self.adv_weight * self._bce(d_frozen, SOURCE),
            loss_disc=self.disc_weight *
            (self._bce(d_s, SOURCE) + self._bce(d_t, TARGET)))

    @staticmethod
    def _bce(logits: Tensor, domain: int) -> Tensor:
        labels = torch.full_like(logits, float(domain), dtype=torch.float32)
        return F.binary_cross_entropy_with_logits(logits.float(), labels)
