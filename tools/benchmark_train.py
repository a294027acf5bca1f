"""Training-step speed and memory of a config against a plain reference loop.

Two trainers run interleaved, iteration by iteration, on the same network
(two copies of one initialisation) and the same synthetic inputs:

(a) *project*: the model's ``train_step`` as MMEngine runs it (the config's
    data preprocessor and optimiser wrapper, AMP with ``--amp``);
(b) *reference*: a loop written here from METHODS.md with the structure of
    the released single-GPU loops: float32, inputs normalised on the
    device, each domain back-propagated as soon as its losses are complete
    (MaxSquare: source, then target; FADA: source, then the adversarial
    term with D frozen, segmentation step, then D; DACS as DAFormer runs
    it: teacher update, source, teacher pseudo-labels, mix, mixed batch,
    then MIC's masked batch when the config stacks MIC on DACS),
    SGD with a backbone group and a 10x classifier group (MaxSquare's
    released repeated-listing arithmetic when the config uses
    ``RepeatedListingSGD``; AdamW for DAFormer's schedule; Adam for FADA's
    D). The DACS loop calls the project's ClassMix, colour-jitter, blur
    and block-mask functions (their maths are tested on their own; both
    trainers draw the same random numbers, seeded alike per iteration) and
    writes the rest (EMA teacher, pseudo-labels, weights, mixing, losses)
    itself.

Printed: per-iteration time (median after warm-up), images/s and peak
memory of each, and their ratios. Peak memory is
``torch.cuda.max_memory_allocated`` on a GPU; on the CPU it is the peak of
the bytes of tensors saved for backward (activations, parameters excluded),
which is what decides whether a step fits. The first step's weights of both
trainers are compared too (the maths must agree).

Supported reference loops: MaxSquare / MinEnt / image-wise weighting on
the main head (``TargetOutputLoss`` without guidance), FADA
(``FineGrainedAdversarial``), DACS alone and DACS + MIC
(``MaskedImageConsistency``, 'separatetrgaug'). Other configs are benchmarked
without a reference. Batches have the config's batch size (2 + 2 for
DACS) and its training image size, or its crop size where the pipeline
crops.

Examples::

    python tools/benchmark_train.py configs/maxsquare/gta2cs.py
    python tools/benchmark_train.py configs/fada/gta2cs.py --amp   # GPU
    python tools/benchmark_train.py configs/fada/gta2cs.py --amp \
        --channels-last
    python tools/benchmark_train.py configs/fada/gta2cs.py --smoke
    python tools/benchmark_train.py configs/dacs/gta2cs_deeplabv2.py
    python tools/benchmark_train.py configs/mic/gta2cs_deeplabv2.py
"""
import argparse
import copy
import logging
import os.path as osp
import statistics
import sys
import time
import weakref
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..'))
import mmseg_uda  # noqa: E402,F401
from mmseg_uda.models.utils.block_mask import mask_images  # noqa: E402
from mmseg_uda.models.utils.strong_augmentation import (  # noqa: E402
    class_mix_masks, draw_strong_gates, strong_transform)
from mmseg_uda.utils import provenance  # noqa: E402
from mmseg_uda.utils.launch import enable_amp  # noqa: E402

IGNORE = 255


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Per-iteration time, images/s and peak memory of a '
        'config\'s training step against a plain PyTorch loop shaped like '
        'the released one (interleaved in one run).')
    parser.add_argument('config', help='training config')
    parser.add_argument('--iters', type=int, default=None,
                        help='timed iterations per trainer (default 10 on a '
                        'GPU, 3 on the CPU, 2 with --smoke)')
    parser.add_argument('--warmup', type=int, default=None,
                        help='untimed iterations first (default 3 on a GPU, '
                        '1 otherwise)')
    parser.add_argument('--scale', type=float, default=None,
                        help='image size factor against the config\'s '
                        'training sizes (default 1 on a GPU, 0.25 on the '
                        'CPU)')
    parser.add_argument('--device', choices=['cuda', 'cpu'], default=None,
                        help='default: cuda when available')
    parser.add_argument('--amp', action='store_true',
                        help='the project trainer in mixed precision '
                        '(bfloat16 where supported); the reference stays '
                        'float32 like the released loops')
    parser.add_argument('--one-backward', action='store_true',
                        help='keep both domains\' graphs until one backward '
                        '(model.backward_per_domain=False), to see what the '
                        'per-domain backward saves')
    parser.add_argument('--channels-last', action='store_true',
                        help='the project trainer with '
                        'model.channels_last=True (NHWC weights and inputs)')
    parser.add_argument('--acc-seg-stride', type=int, default=None,
                        help='model.acc_seg_stride for the project trainer '
                        '(acc_seg on every s-th pixel; default: the '
                        'config\'s)')
    parser.add_argument('--no-reference', action='store_true',
                        help='benchmark the project trainer only')
    parser.add_argument('--smoke', action='store_true',
                        help='structure check: tiny network and images, 2 '
                        'iterations; the figures mean nothing')
    return parser.parse_args(argv)


# --------------------------------------------------------------- set-up --
def train_scales(cfg: Config) -> Tuple[Tuple[int, int], Tuple[int, int]]:
    """(w, h) of the source and target training images of ``cfg``: the
    crop size where the pipeline crops, else the resize scale."""

    def pipeline_scale(dataset: dict) -> Optional[Tuple[int, int]]:
        pipeline = dataset.get('pipeline', [])
        for step in pipeline:
            if step.get('type') == 'RandomCrop':
                height, width = step['crop_size']
                return width, height
        for step in pipeline:
            if step.get('type') in ('Resize', 'PILResize') and 'scale' in step:
                return tuple(step['scale'])
        return None

    dataset = cfg.train_dataloader.dataset
    if dataset.get('type') == 'UDADataset':
        source = pipeline_scale(dataset.source)
        target = pipeline_scale(dataset.target)
    else:
        source = target = pipeline_scale(dataset)
    source = source or tuple(cfg.get('source_scale', (1280, 720)))
    target = target or tuple(cfg.get('target_scale', (1024, 512)))
    return source, target


def shrink_for_smoke(cfg: Config) -> None:
    """A tiny backbone (the tests' ResNet layout) for --smoke."""
    cfg.model.backbone.update(depth=50, base_channels=8, stem_channels=8)
    if cfg.model.backbone.type == 'DeepLabResNet':
        cfg.model.backbone.stage_blocks = (1, 1, 1, 1)
    cfg.model.decode_head.in_channels = 256
    if cfg.model.get('auxiliary_head'):
        cfg.model.auxiliary_head.in_channels = 128
    for term in cfg.model.get('uda_terms', []):
        if 'discriminator' in term:
            term.discriminator.in_channels = 256


def synthetic_batch(scales: Tuple[Tuple[int, int], Tuple[int, int]],
                    num_classes: int, seed: int, batch_size: int = 1) -> dict:
    """``batch_size`` source (labelled) + as many target images as the
    dataloader yields them (uint8 CHW images, data samples)."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for domain, (w, h) in zip(('source', 'target'), scales):
        images, samples = [], []
        for _ in range(batch_size):
            images.append(torch.randint(0, 256, (3, h, w), generator=g,
                                        dtype=torch.uint8))
            sample = SegDataSample()
            sample.set_metainfo(dict(img_shape=(h, w), ori_shape=(h, w)))
            if domain == 'source':
                label = torch.randint(0, num_classes, (1, h, w), generator=g)
                label[:, :h // 10] = IGNORE
                sample.gt_sem_seg = PixelData(data=label)
            samples.append(sample)
        out[domain] = dict(inputs=images, data_samples=samples)
    return out


# ------------------------------------------------------------ measuring --
class SavedTensorPeak:
    """Peak bytes of the distinct storages saved for backward (parameters
    excluded) while the context is open."""

    def __init__(self, params: List[torch.Tensor]) -> None:
        self._params = {p.untyped_storage().data_ptr() for p in params}
        self._refs: Dict[int, int] = {}
        self._sizes: Dict[int, int] = {}
        self.current = 0
        self.peak = 0

    def _add(self, key: int, nbytes: int) -> None:
        if self._refs.get(key, 0) == 0:
            self._sizes[key] = nbytes
            self.current += nbytes
            self.peak = max(self.peak, self.current)
        self._refs[key] = self._refs.get(key, 0) + 1

    def _release(self, key: int) -> None:
        self._refs[key] -= 1
        if self._refs[key] == 0:
            self.current -= self._sizes.pop(key)
            del self._refs[key]

    def _pack(self, tensor: torch.Tensor):
        key = tensor.untyped_storage().data_ptr()
        if key in self._params:
            return tensor
        self._add(key, tensor.untyped_storage().nbytes())
        holder = _Box([tensor])
        weakref.finalize(holder, self._release, key)
        return holder

    @staticmethod
    def _unpack(packed):
        return packed.items[0] if isinstance(packed, _Box) else packed

    def __enter__(self) -> 'SavedTensorPeak':
        self._hooks = torch.autograd.graph.saved_tensors_hooks(
            self._pack, self._unpack)
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._hooks.__exit__(*exc)


class _Box:
    """Holds one saved tensor; its collection marks the tensor released."""
    __slots__ = ('items', '__weakref__')

    def __init__(self, items: list) -> None:
        self.items = items


def measure(step: Callable[[], None], device: str,
            params: List[torch.Tensor]) -> Tuple[float, int]:
    """Seconds and peak bytes of one call of ``step``."""
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        step()
        torch.cuda.synchronize()
        return time.perf_counter() - start, torch.cuda.max_memory_allocated()
    with SavedTensorPeak(params) as peak:
        start = time.perf_counter()
        step()
        seconds = time.perf_counter() - start
    return seconds, peak.peak


# ---------------------------------------------------- reference loops --
def sce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean over pixels of sum_j -a_j log_softmax(z)_j (FADA)."""
    return -(labels * F.log_softmax(logits, dim=1)).sum(1).mean()


def release_listings(backbone: torch.nn.Module) -> Dict[torch.Tensor, int]:
    """How often MaxSquare's released group builder lists each backbone
    tensor: once per module on the path from a top-level part to it."""
    counts: Dict[torch.Tensor, int] = {}
    for part in backbone.children():
        for module in part.modules():
            for p in module.parameters():
                if p.requires_grad:
                    counts[p] = counts.get(p, 0) + 1
    return counts


class ReleasedSGD:
    """PyTorch 1.0's SGD over a parameter list with repeated tensors (the
    released MaxSquare optimiser): per listing, weight decay is added to
    the gradient in place, the tensor's one momentum buffer is updated
    (created as a copy of the gradient) and the tensor steps by -lr*buf."""

    def __init__(self, groups, momentum: float, weight_decay: float) -> None:
        self.groups = groups  # [(dict tensor -> listings, lr)]
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.buffers: Dict[torch.Tensor, torch.Tensor] = {}

    def zero_grad(self) -> None:
        for listings, _ in self.groups:
            for p in listings:
                p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for listings, lr in self.groups:
            for p, times in listings.items():
                if p.grad is None:
                    continue
                for _ in range(times):
                    grad = p.grad.add_(p, alpha=self.weight_decay)
                    if p not in self.buffers:
                        self.buffers[p] = grad.clone()
                    else:
                        self.buffers[p].mul_(self.momentum).add_(grad)
                    p.add_(self.buffers[p], alpha=-lr)


class ReferenceLoop:
    """The released single-GPU iteration, written from METHODS.md."""

    def __init__(self, model: torch.nn.Module, cfg: Config,
                 device: str) -> None:
        self.model = model
        self.terms = cfg.model.get('uda_terms', [])
        preprocessor = cfg.model.data_preprocessor
        self.mean = torch.tensor(preprocessor.mean, device=device).view(
            1, 3, 1, 1)
        self.std = torch.tensor(preprocessor.std, device=device).view(
            1, 3, 1, 1)
        self.bgr_to_rgb = preprocessor.get('bgr_to_rgb', False)
        self.temperature = cfg.model.get('logit_temperature', 1.0)
        self.align_corners = cfg.model.decode_head.get('align_corners', True)
        self.avg_non_ignore = cfg.model.decode_head.get(
            'loss_decode', {}).get('avg_non_ignore', False)
        self.device = device
        kind = self.kind(cfg)
        if kind is None:
            raise ValueError('benchmark_train: no reference loop for this '
                             'config (MaxSquare-family main-head terms, '
                             'FADA, DACS (+ MIC) only); use --no-reference')
        self.method = kind
        optimizer = cfg.optim_wrapper.get('segmentor', cfg.optim_wrapper)
        opt = optimizer.optimizer
        heads, norms, rest = [], [], []
        for name, p in model.named_parameters():
            if not p.requires_grad or 'uda_terms' in name:
                continue
            if 'head' in name:
                heads.append(p)
            elif 'norm' in name:
                norms.append(p)
            else:
                rest.append(p)
        if opt.type == 'RepeatedListingSGD':
            self.sgd = ReleasedSGD(
                [(release_listings(model.backbone), opt.lr),
                 ({p: 1 for p in heads}, 10 * opt.lr)], opt.momentum,
                opt.weight_decay)
        elif opt.type == 'AdamW':  # DAFormer's (METHODS.md sec. 7.5)
            self.sgd = torch.optim.AdamW(
                [dict(params=rest), dict(params=norms, weight_decay=0.0),
                 dict(params=heads, lr=10 * opt.lr)],
                lr=opt.lr, betas=tuple(opt.get('betas', (0.9, 0.999))),
                eps=opt.get('eps', 1e-8), weight_decay=opt.weight_decay)
        else:
            self.sgd = torch.optim.SGD(
                [dict(params=rest), dict(params=heads, lr=10 * opt.lr)],
                lr=opt.lr, momentum=opt.momentum,
                weight_decay=opt.weight_decay)
        if kind == 'fada':
            term = self.terms[0]
            d_opt = cfg.optim_wrapper.discriminator.optimizer
            self.disc = model.uda_terms[0].discriminator
            self.adam = torch.optim.Adam(
                self.disc.parameters(), lr=d_opt.lr,
                betas=tuple(d_opt.get('betas', (0.9, 0.999))))
            self.adv_weight = term.get('adv_weight', 0.001)
            self.disc_weight = term.get('disc_weight', 0.5)
            self.clip = term.get('clip', 0.9)
        elif kind == 'dacs':
            self.dacs = self.terms[0]
            # The held teacher network of the model copy serves as the
            # reference's teacher modules (so both state dicts compare);
            # the reference updates and runs it with its own code.
            teacher = model.uda_terms[0].teacher
            self.teacher = (teacher.backbone, teacher.decode_head)
            self.t = 0
            self.mic = self.terms[1] if len(self.terms) == 2 else None
        else:
            loss = self.terms[0].loss
            self.loss_type = loss.type
            self.lam = loss.get('loss_weight', 1.0)
            self.alpha = loss.get('iw_ratio')

    @staticmethod
    def kind(cfg: Config) -> Optional[str]:
        """'maxsquare', 'fada', 'dacs' or None (no reference for this
        config)."""
        terms = cfg.model.get('uda_terms', [])
        if cfg.model.get('auxiliary_head') or not terms:
            return None
        mic = [t for t in terms[1:] if t.type == 'MaskedImageConsistency'
               and t.get('mode', 'separatetrgaug') == 'separatetrgaug']
        if terms[0].type == 'DACS' and len(terms) == 1 + len(mic) <= 2:
            return 'dacs'
        if len(terms) != 1:
            return None
        if terms[0].type == 'FineGrainedAdversarial' and terms[0].get(
                'class_aware', True):
            return 'fada'
        if (terms[0].type == 'TargetOutputLoss'
                and not terms[0].get('guidance')
                and terms[0].loss.type in ('MaxSquareLoss', 'EntropyLoss')):
            return 'maxsquare'
        return None

    def normalise(self, images: List[torch.Tensor]) -> torch.Tensor:
        x = torch.stack(images).to(self.device, non_blocking=True).float()
        if self.bgr_to_rgb:
            x = x.flip(1)
        return (x - self.mean) / self.std

    def logits(self, x: torch.Tensor, network=None):
        backbone, head = network or (self.model.backbone,
                                     self.model.decode_head)
        feats = backbone(x)
        out = head(feats) / self.temperature
        out = F.interpolate(out, size=x.shape[2:], mode='bilinear',
                            align_corners=self.align_corners)
        return feats, out

    def cross_entropy(self, logits: torch.Tensor, labels: torch.Tensor,
                      weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Per-pixel CE (x weight), mean over the non-ignored pixels
        (``avg_non_ignore``) or over all of them."""
        ce = F.cross_entropy(logits, labels, ignore_index=IGNORE,
                             reduction='none')
        if weight is not None:
            ce = ce * weight
        if self.avg_non_ignore:
            return ce.sum() / (labels != IGNORE).sum().clamp(min=1)
        return ce.mean()

    @torch.no_grad()
    def update_teacher(self) -> None:
        """EMA of the student's parameters at the start of iteration t:
        copy at t = 0, else rate min(1 - 1/(k + 1), alpha) with k = t
        ('before') or t - 1 ('after': the original's post-step update of
        index t - 1, which is what iteration t sees)."""
        student = list(self.model.backbone.parameters()) + list(
            self.model.decode_head.parameters())
        teacher = list(self.teacher[0].parameters()) + list(
            self.teacher[1].parameters())
        k = self.t - (self.dacs.get('ema_update', 'before') == 'after')
        for tp, sp in zip(teacher, student):
            if self.t == 0:
                tp.copy_(sp)
            else:
                a = min(1 - 1 / (k + 1), self.dacs.get('alpha', 0.999))
                tp.mul_(a).add_(sp, alpha=1 - a)
        self.t += 1

    def dacs_step(self, x_s: torch.Tensor, y_s: torch.Tensor,
                  x_t: torch.Tensor) -> None:
        """One DACS iteration, DAFormer's order (METHODS.md sec. 7.1)."""
        term = self.dacs
        self.update_teacher()
        _, s = self.logits(x_s)
        self.cross_entropy(s, y_s).backward()
        del s
        with torch.no_grad():
            for module in self.teacher:
                module.train()
            _, z = self.logits(x_t, self.teacher)
            p_max, y_t = z.softmax(1).max(1)
        threshold = term.get('pseudo_threshold', 0.968)
        w_t = (p_max >= threshold).float().mean().expand_as(p_max).clone()
        top = term.get('pseudo_weight_ignore_top', 0)
        bottom = term.get('pseudo_weight_ignore_bottom', 0)
        w_t[:, :top] = 0
        if bottom:
            w_t[:, -bottom:] = 0
        m = class_mix_masks(y_s, term.get('classmix_scope', 'batch'), IGNORE)
        x_m = m * x_s + (1 - m) * x_t
        y_m = torch.where(m[:, 0].bool(), y_s, y_t)
        w_m = m[:, 0] + (1 - m[:, 0]) * w_t
        jitter, blur = draw_strong_gates(term.get('color_jitter_p', 0.2),
                                         term.get('blur', True))
        x_m = strong_transform(
            x_m, self.mean, self.std, jitter, blur,
            strength=term.get('color_jitter_strength', 0.2),
            sigma_range=tuple(term.get('blur_sigma', (0.15, 1.15))),
            per_image_sigma=True)
        _, z_m = self.logits(x_m)
        # the mixed CE: mean over all pixels of w * CE
        ce = F.cross_entropy(z_m, y_m, ignore_index=IGNORE, reduction='none')
        (ce * w_m).mean().backward()
        del z_m, ce
        if self.mic is not None:  # sec. 7.6, on the un-mixed y_t and w_t
            mic = self.mic
            jitter, blur = draw_strong_gates(mic.get('color_jitter_p', 0.2))
            x = strong_transform(
                x_t, self.mean, self.std, jitter, blur,
                strength=mic.get('color_jitter_strength', 0.2),
                sigma_range=tuple(mic.get('blur_sigma', (0.15, 1.15))),
                per_image_sigma=False, per_image_jitter=False)
            x = mask_images(x, mic.get('mask_block_size', 64),
                            mic.get('mask_ratio', 0.7))
            _, z = self.logits(x)
            ce = F.cross_entropy(z, y_t, ignore_index=IGNORE,
                                 reduction='none')
            weight = mic.get('masked_loss', {}).get('loss_weight', 1.0)
            (weight * (ce * w_t).mean()).backward()
        self.sgd.step()

    def target_loss(self, logits: torch.Tensor) -> torch.Tensor:
        p = logits.softmax(1)
        b, c = p.shape[:2]
        if self.loss_type == 'EntropyLoss':
            elem = -p * torch.log(p + 1e-30)
        else:
            elem = p**2 / 2 if self.alpha is None else p**2
        if self.alpha is None:
            return -self.lam * elem.mean() if self.loss_type != \
                'EntropyLoss' else self.lam * elem.mean()
        pred = p.argmax(1)
        w = []
        for i in range(b):
            n = torch.bincount(pred[i].flatten(), minlength=c).float()
            w_c = 1 / torch.clamp(n**self.alpha * n.sum()**(1 - self.alpha),
                                  min=1)
            w.append(w_c[pred[i]])
        w = torch.stack(w)[:, None].detach()
        sign = 1 if self.loss_type == 'EntropyLoss' else -1
        return sign * self.lam * (elem * w).sum() / (b * c)

    def step(self, batch: dict) -> None:
        src, tgt = batch['source'], batch['target']
        x_s = self.normalise(src['inputs'])
        y_s = torch.cat([
            sample.gt_sem_seg.data for sample in src['data_samples']
        ]).to(self.device)
        x_t = self.normalise(tgt['inputs'])
        self.sgd.zero_grad()
        if self.method == 'dacs':
            self.dacs_step(x_s, y_s, x_t)
            return
        feats_s, s = self.logits(x_s)
        self.cross_entropy(s, y_s).backward()
        if self.method == 'maxsquare':
            _, t = self.logits(x_t)
            self.target_loss(t).backward()
            self.sgd.step()
            return
        # FADA: adversarial term with D frozen, segmentation step, then D.
        f_s = feats_s[3].detach()
        a_s = F.softmax(s.detach(), 1).clamp(max=self.clip)
        del feats_s, s
        feats_t, t = self.logits(x_t)
        f_t = feats_t[3]
        a_t = F.softmax(t.detach(), 1).clamp(max=self.clip)
        zeros = torch.zeros_like(a_t)
        for p in self.disc.parameters():
            p.requires_grad_(False)
        adv = sce(self.disc(f_t, x_t.shape[2:]), torch.cat([a_t, zeros], 1))
        (self.adv_weight * adv).backward()
        self.sgd.step()
        for p in self.disc.parameters():
            p.requires_grad_(True)
        self.adam.zero_grad()
        d_loss = sce(self.disc(f_s, x_s.shape[2:]),
                     torch.cat([a_s, torch.zeros_like(a_s)], 1)) + sce(
                         self.disc(f_t.detach(), x_t.shape[2:]),
                         torch.cat([zeros, a_t], 1))
        (self.disc_weight * d_loss).backward()
        self.adam.step()


# ------------------------------------------------------------------ main --


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    register_all_modules(init_default_scope=True)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: no CUDA device is available')
    on_gpu = device == 'cuda'
    iters = args.iters or (2 if args.smoke else 10 if on_gpu else 3)
    warmup = args.warmup if args.warmup is not None else (
        3 if on_gpu and not args.smoke else 1)
    scale = args.scale or (1.0 if on_gpu else 0.25)
    cfg = Config.fromfile(args.config)
    if args.smoke:
        shrink_for_smoke(cfg)
        scale = args.scale or 0.05
    if args.amp:
        enable_amp(cfg)
    if args.one_backward:
        cfg.model.backward_per_domain = False
    if args.channels_last:
        cfg.model.channels_last = True
    if args.acc_seg_stride is not None:
        cfg.model.acc_seg_stride = args.acc_seg_stride
    torch.backends.cudnn.benchmark = bool(
        cfg.get('env_cfg', {}).get('cudnn_benchmark', False))
    base = train_scales(cfg)
    scales = tuple((max(32, round(w * scale)), max(32, round(h * scale)))
                   for w, h in base)
    num_classes = cfg.model.decode_head.num_classes

    # mmengine logs every parameter's init and paramwise option at INFO.
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    torch.manual_seed(0)
    project = MODELS.build(cfg.model)
    project.to(device).train()
    use_reference = not args.no_reference and ReferenceLoop.kind(cfg)
    reference = None
    if use_reference:
        # The released loops keep PyTorch's default (NCHW) format.
        reference = ReferenceLoop(
            copy.deepcopy(project).to(memory_format=torch.contiguous_format),
            cfg, device)
    elif not args.no_reference:
        print('benchmark_train: no reference loop for this config '
              '(MaxSquare-family main-head terms, FADA, DACS (+ MIC) only); '
              'project trainer only')
    wrapper = build_optim_wrapper(project, cfg.optim_wrapper)
    batch_size = cfg.train_dataloader.get('batch_size', 1)
    batches = [synthetic_batch(scales, num_classes, seed, batch_size)
               for seed in range(warmup + iters)]

    def seeded(step, seed):
        """Both trainers draw the same random numbers (DACS's ClassMix,
        jitter, blur) in an iteration."""

        def run():
            torch.manual_seed(seed)
            step()

        return run

    def project_step(batch, seed):
        return seeded(lambda: project.train_step(batch, wrapper), seed)

    def reference_step(batch, seed):
        return seeded(lambda: reference.step(batch), seed)

    trainers = {'project': (project_step, list(project.parameters()))}
    if reference is not None:
        trainers['reference'] = (reference_step,
                                 list(reference.model.parameters()))
    times: Dict[str, List[float]] = {k: [] for k in trainers}
    peaks: Dict[str, int] = {k: 0 for k in trainers}
    first_step_diff = None
    for i, batch in enumerate(batches):
        for name, (make_step, params) in trainers.items():
            seconds, peak = measure(make_step(batch, i), device, params)
            if i >= warmup:
                times[name].append(seconds)
            peaks[name] = max(peaks[name], peak)
        if i == 0 and reference is not None:
            first_step_diff = max(
                (a.detach() - b.detach()).abs().max().item()
                for a, b in zip(project.state_dict().values(),
                                reference.model.state_dict().values())
                if a.is_floating_point())

    precision = 'bf16/fp16 autocast' if args.amp else 'fp32'
    print(f'benchmark_train: {args.config} on {device} '
          f'({provenance.machine_description()}), '
          f'commit {provenance.code_commit()}, {time.strftime("%Y-%m-%d")}')
    print(f'  source {scales[0][0]}x{scales[0][1]}, target '
          f'{scales[1][0]}x{scales[1][1]}, batch {batch_size}+{batch_size}, '
          f'project {precision}, '
          f'{iters} timed iterations after {warmup} warm-up'
          + (', one backward' if args.one_backward else '')
          + (', channels-last' if args.channels_last else '')
          + (f', acc_seg stride {args.acc_seg_stride}'
             if args.acc_seg_stride else '')
          + (' [SMOKE: tiny network, figures mean nothing]'
             if args.smoke else ''))
    memory = 'peak allocated' if on_gpu else 'peak saved-for-backward'
    results: Dict[str, float] = {}
    print(f'  {"":24s}{"project":>14s}{"reference":>14s}{"ratio":>10s}')
    median = {k: statistics.median(v) for k, v in times.items()}
    rows = [
        ('iteration time (s)', median, '{:.4f}'),
        ('images/s', {k: 2 * batch_size / v
                      for k, v in median.items()}, '{:.2f}'),
        (f'{memory} (GiB)', {k: v / 2**30 for k, v in peaks.items()},
         '{:.3f}'),
    ]
    for label, values, fmt in rows:
        ref = values.get('reference')
        ratio = ''
        if ref:
            ratio = f'{values["project"] / ref:.3f}x'
        print(f'  {label:24s}{fmt.format(values["project"]):>14s}'
              f'{fmt.format(ref) if ref else "-":>14s}{ratio:>10s}')
    results['project_time'] = median['project']
    results['project_peak_bytes'] = peaks['project']
    if reference is not None:
        results['reference_time'] = median['reference']
        results['reference_peak_bytes'] = peaks['reference']
        results['speedup'] = median['reference'] / median['project']
        results['memory_ratio'] = peaks['project'] / peaks['reference']
        results['first_step_max_abs_diff'] = first_step_diff
        print(f'  speed-up (reference time / project time): '
              f'{results["speedup"]:.2f}x; memory ratio (project / '
              f'reference): {results["memory_ratio"]:.3f}')
        print('  weights after the first step: max |project - reference| = '
              f'{first_step_diff:.3g}')
    return results


if __name__ == '__main__':
    main()
