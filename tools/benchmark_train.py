"""Training-step speed and memory of a config against a plain reference loop.

Two trainers run interleaved, iteration by iteration, on the same network
(two copies of one initialisation) and the same synthetic inputs, with the
config's batch size per domain (``train_dataloader.batch_size``; CAG-UDA's
4 + 4, DACS's 2 + 2, the others' 1 + 1; ``--batch-size`` overrides it) at
its training image size (the last fixed resize or random crop of each
domain's pipeline: DACS's 512 x 512 crops):

(a) *project*: the model's ``train_step`` as MMEngine runs it (the config's
    data preprocessor and optimiser wrapper, AMP with ``--amp``; SyncBN
    reverted to BN as the runner does without a process group);
(b) *reference*: a loop written here from METHODS.md with the structure of
    the released single-GPU loops: float32, inputs normalised on the
    device, each domain back-propagated as soon as its losses are complete:

    - MaxSquare / MinEnt / image-wise weighting on the main head (sec. 2):
      source, then target; SGD with a backbone group and a 10x classifier
      group (the released repeated-listing arithmetic when the config uses
      ``RepeatedListingSGD``);
    - FADA (sec. 3): source, then the adversarial term with D frozen, the
      segmentation step, then D (Adam);
    - a CAG-UDA stage (sec. 4, 6.1, 6.4): a frozen copy of the stage-start
      network (eval mode, no gradient) makes both target pseudo-labels
      (ATI/PLA on the anchors, probability > 0.95) at head resolution;
      source CE on logits upsampled to the crop plus 0.7 x the distance
      loss, back-propagated; then ``0.5 (CE(anchor) + CE(prob))`` on the
      stride-4 logits (not upsampled) plus 0.7 x the target distance loss;
      the distance loss pair by pair in Python loops as released (masked
      mean with the released gradient, SmoothL1, ``while l > 5: l /= 10``,
      10 x the mean over pairs); SGD, one group, at the first iteration's
      lr ``1e-4 (1 - 1/90000)^0.9`` (the release steps its scheduler before
      the optimiser);
    - depth distribution (sec. 5, 6.2-6.4): G source backward (class-
      weighted CE, balance and depth berHu), G target backward with D
      frozen, D backward on detached maps (BCE 1 + 1, not halved), then
      both steps (SGD one group, Adam); the source density target is class
      c's mixture at ``d * [GT == c]``, GT and depth read at the grid's cell
      centres by Pillow's nearest resize, done as a loader step (untimed);
    - DACS alone (sec. 7.1, 7.10), in DAFormer's order: EMA teacher update,
      source CE backward, teacher pseudo-labels on the plain target, q and
      the crop-row band, ClassMix, strong augmentation, mixed CE backward,
      one step (the SGD above for the original DACS; AdamW with a 10x head
      group and undecayed norms at the warm-up's first lr for DAFormer's
      schedule, sec. 7.5). The loop calls the project's ClassMix,
      colour-jitter and blur functions (their maths are tested on their
      own) and writes the rest (EMA teacher, pseudo-labels, weights,
      mixing, losses) itself;
    - DACS + MIC (sec. 7.6, 'separatetrgaug'): the DACS iteration above,
      then, after the mixed backward, MIC's masked batch on the un-mixed
      pseudo-labels and weight (its own colour augmentation, the
      project's block mask), back-propagated before the one step.

Both trainers use the first iteration's learning rates (the config's
``param_scheduler`` built once, as the runner does at iteration 0) and
draw the same random numbers (dropout masks; DACS's ClassMix, jitter and
blur: the RNG is seeded alike before each step).
The state a stage starts from is synthetic and shared by both trainers:
CAG's stage-start network (BN statistics of one batch, the classifier
scaled so that half the target cells pass the probability threshold),
anchors (class means of its target features, spread until half the cells
are active) and source labels (its own prediction, so that most pixels are
correctly predicted, as for a trained model); the depth method's per-class
GMMs (random, of the config's class count and grid) and depth maps; for
DACS, the classifier scaled so that about half the target cells pass the
pseudo-label threshold (a random network's never do: q would be 0).

Printed: per-iteration time (median after warm-up), images/s and peak
memory of each, and their ratios. Peak memory is
``torch.cuda.max_memory_allocated`` on a GPU; on the CPU it is the peak of
the bytes of tensors saved for backward (activations, parameters excluded),
which is what decides whether a step fits. After the first step the losses
of both trainers and their state, part by part (backbone, heads,
discriminator, ...: the largest weight difference, how far the step moved
the weights, the largest relative difference of the buffers), are
compared too (the maths must agree; DACS's parts include the teacher).

Supported reference loops: MaxSquare / MinEnt / image-wise weighting on
the main head (``TargetOutputLoss`` without guidance), FADA
(``FineGrainedAdversarial``), a CAG-UDA stage with the released distance
loss (``CategoryAnchorGuided``, V3+ head feature or a backbone feature),
the depth method (``DepthDistribution``), DACS alone (``DACS``) and DACS +
MIC (``MaskedImageConsistency``, 'separatetrgaug'). Other
configs are benchmarked without a reference.

Examples::

    python tools/benchmark_train.py configs/maxsquare/gta2cs.py
    python tools/benchmark_train.py configs/fada/gta2cs.py --amp   # GPU
    python tools/benchmark_train.py configs/fada/gta2cs.py --amp \
        --channels-last
    python tools/benchmark_train.py configs/cag/gta2cs_stage1.py
    python tools/benchmark_train.py configs/depth/synthia2cs.py \
        --cfg-options model.uda_terms.0.disc_weight=1.0
    python tools/benchmark_train.py configs/dacs/gta2cs_deeplabv2.py
    python tools/benchmark_train.py configs/mic/gta2cs_deeplabv2.py
    python tools/benchmark_train.py configs/fada/gta2cs.py --smoke
"""
import argparse
import copy
import logging
import math
import os.path as osp
import statistics
import sys
import time
import weakref
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import OptimWrapperDict, build_optim_wrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS, PARAM_SCHEDULERS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules
from PIL import Image
from torch import Tensor, nn

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..'))
import mmseg_uda  # noqa: E402,F401
from mmseg_uda.models.uda.category_anchors import \
    anchor_pseudo_labels  # noqa: E402
from mmseg_uda.models.utils.block_mask import mask_images  # noqa: E402
from mmseg_uda.models.utils.strong_augmentation import (  # noqa: E402
    class_mix_masks, draw_strong_gates, strong_transform)
from mmseg_uda.utils import provenance  # noqa: E402
from mmseg_uda.utils.launch import enable_amp  # noqa: E402

IGNORE = 255
#: Seed of the RNG before step i of either trainer (dropout masks, DACS's
#: ClassMix, jitter and blur draws).
STEP_SEED = 1000
#: Synthetic source depth ``65536 / (raw + 1)`` for raw in this range, as
#: LoadSynthiaDepth decodes SYNTHIA's 16-bit maps.
RAW_DEPTH = (100, 20000)


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
    parser.add_argument('--batch-size', type=int, default=None,
                        help='images per domain (default: the config\'s '
                        'train_dataloader.batch_size)')
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
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        metavar='KEY=VALUE',
                        help='override config keys (as tools/train.py), '
                        'e.g. model.uda_terms.0.disc_weight=1.0')
    parser.add_argument('--smoke', action='store_true',
                        help='structure check: tiny network and images, 2 '
                        'iterations; the figures mean nothing')
    return parser.parse_args(argv)


# --------------------------------------------------------------- set-up --
def train_scales(cfg: Config) -> Tuple[Tuple[int, int], Tuple[int, int]]:
    """(w, h) of the source and target training images of ``cfg``: the
    last fixed resize or random crop of each domain's pipeline."""

    def pipeline_scale(dataset: dict) -> Optional[Tuple[int, int]]:
        size = None
        for step in dataset.get('pipeline', []):
            kind = step.get('type')
            if kind in ('Resize', 'PILResize', 'ResizeWithDepth') and \
                    'scale' in step:
                size = tuple(step['scale'])
            elif kind == 'RandomCrop':
                height, width = step['crop_size']
                size = (width, height)
        return size

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
    """A tiny backbone (the tests' ResNet layout), heads and
    discriminators for --smoke."""
    cfg.model.backbone.update(depth=50, base_channels=8, stem_channels=8)
    if cfg.model.backbone.type == 'DeepLabResNet':  # mmseg's ResNet takes none
        cfg.model.backbone.stage_blocks = (1, 1, 1, 1)
    if cfg.model.decode_head.type == 'DeepLabV3PlusHead':  # layer1, layer4
        cfg.model.decode_head.update(in_channels=(32, 256), channels=16,
                                     skip_channels=8)
    else:
        cfg.model.decode_head.in_channels = 256
    if cfg.model.get('auxiliary_head'):
        cfg.model.auxiliary_head.in_channels = 128
    for term in cfg.model.get('uda_terms', []):
        if term.type == 'DepthDistribution':  # heads on layer4, tiny D
            head = dict(type='ChannelMeanRegressionHead', in_channels=256,
                        channels=(8, 8, 4))
            term.update(
                in_channels=256, depth_head=head, density_head=head,
                discriminator=dict(type='FullyConvDiscriminator',
                                   in_channels=term.num_classes,
                                   channels=(8, 8, 8, 8)))
        elif 'discriminator' in term:
            term.discriminator.in_channels = 256
        if term.type == 'CategoryAnchorGuided':
            term.feature_dim = 16 if term.get('feature',
                                              'head') == 'head' else 256


def pooled_batch_norm(cfg: Config) -> bool:
    """Whether the model batch-normalises a globally pooled feature (the
    V3+ ASPP image pooling), which train mode cannot do for one image."""
    return cfg.model.decode_head.get('type') == 'DeepLabV3PlusHead'


def synthetic_batch(scales: Tuple[Tuple[int, int], Tuple[int, int]],
                    num_classes: int, seed: int, batch_size: int = 1,
                    with_depth: bool = False) -> dict:
    """``batch_size`` source (labelled) + as many target images as the
    dataloader yields them (uint8 CHW images, data samples); the source's
    with a SYNTHIA-like ``gt_depth_map`` when ``with_depth``."""
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
                if with_depth:
                    raw = torch.randint(*RAW_DEPTH, (1, h, w), generator=g)
                    sample.gt_depth_map = PixelData(
                        data=65536 / (raw.float() + 1))
            samples.append(sample)
        out[domain] = dict(inputs=images, data_samples=samples)
    return out


def first_iteration_lrs(cfg: Config, wrapper) -> None:
    """Give every optimiser its learning rates of iteration 0: the config's
    ``param_scheduler`` built on it once, as the runner builds it (the
    builder sets iteration 0's value; nothing steps it afterwards)."""
    schedulers = cfg.get('param_scheduler') or []
    wrappers = (dict(wrapper.items()) if isinstance(wrapper, OptimWrapperDict)
                else {None: wrapper})
    for name, inner in wrappers.items():
        configs = (schedulers.get(name, []) if isinstance(schedulers, dict)
                   and name is not None else schedulers)
        for scheduler in ([configs] if isinstance(configs, dict)
                          else configs):
            PARAM_SCHEDULERS.build(dict(scheduler, optimizer=inner))


def batch_norms(module: nn.Module) -> List[nn.Module]:
    return [m for m in module.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def scale_for_share(share: Callable[[float], float], goal: float = 0.5,
                    low: float = 2.0**-10, high: float = 2.0**10) -> float:
    """The factor k at which ``share(k)`` (increasing in k) reaches
    ``goal``, by bisection in log space (20 steps)."""
    for _ in range(20):
        mid = math.sqrt(low * high)
        low, high = (mid, high) if share(mid) < goal else (low, mid)
    return high


@torch.no_grad()
def scale_classifier(project: nn.Module, logits: Tensor,
                     threshold: float) -> None:
    """Scales the classifier's weights and biases so that half the pixels
    of ``logits`` (B, C, h, w), the model's, have a top probability above
    ``threshold``: logits are linear in them (V3+'s 1x1 conv, or the whole
    of a head without an exposed feature: V2's ASPP-sum convs)."""
    head = project.decode_head
    classifier = (head.conv_seg if getattr(head, 'exposes_feature', False)
                  else head)

    def confident(k: float) -> float:
        p = (k * logits).softmax(1).max(1).values
        return (p > threshold).float().mean().item()

    k = scale_for_share(confident, high=2.0**20)
    for p in classifier.parameters():
        p.mul_(k)


@torch.no_grad()
def prepare_cag(project: nn.Module, term: nn.Module, batches: List[dict],
                generator: torch.Generator) -> str:
    """A synthetic CAG stage start, shared by both trainers.

    A stage starts from a trained model, whose eval-mode statistics fit
    its features, most of whose pixels are confident and whose anchors
    separate its classes; a random network has none of that, so:

    - BN statistics are those of the first batch (both domains), for the
      eval-mode frozen copy;
    - the classifier's weights and biases are scaled so that half the
      first target batch's cells pass the probability threshold;
    - the frozen prediction model is loaded from the network;
    - anchors are the class means of the frozen model's features over its
      predicted classes on that batch (a class it does not predict: one
      random cell's feature), spread about their mean until half of the
      batch's cells are active under the term's margin;
    - every source label is the frozen model's own prediction,
      nearest-upsampled, the top tenth ignored (most pixels correctly
      predicted, as for a trained model).

    Returns:
        str: The shares of labelled cells of the first target batch.
    """
    norms = batch_norms(project)
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the calls below
    inputs = project.data_preprocessor(batches[0], True)['inputs']
    for domain in ('source', 'target'):
        project.forward_domain(inputs[domain])
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    frozen = term.frozen_model
    frozen.load_from(project)
    feature, logits = frozen(inputs['target'])
    scale_classifier(project, logits, term.prob_threshold)
    frozen.load_from(project)
    prediction = frozen(inputs['target'])[1].argmax(1)
    flat = feature.permute(0, 2, 3, 1).reshape(-1, feature.shape[1])
    means = torch.empty(term.num_classes, flat.shape[1], device=flat.device)
    for c in range(term.num_classes):
        mask = (prediction == c).flatten()
        if mask.any():
            means[c] = flat[mask].mean(0)
        else:
            pick = torch.randint(0, flat.shape[0], (1, ), generator=generator)
            means[c] = flat[pick.to(flat.device)][0]
    centre = flat.mean(0)

    def active(k: float) -> float:
        labels = anchor_pseudo_labels(feature, centre + k * (means - centre),
                                      term.margin)
        return (labels != IGNORE).float().mean().item()

    anchors = centre + scale_for_share(active) * (means - centre)
    term.set_anchors(anchors, torch.ones_like(term.anchor_counts))
    for batch in batches:
        x = project.data_preprocessor(batch, True)['inputs']['source']
        labels = F.interpolate(
            frozen(x)[1].argmax(1, keepdim=True).float(), size=x.shape[2:],
            mode='nearest').long().cpu()
        labels[..., :x.shape[2] // 10, :] = IGNORE
        for sample, label in zip(batch['source']['data_samples'], labels):
            sample.gt_sem_seg = PixelData(data=label)
    pseudo = term.pseudo_labels(inputs['target'])
    share = {k: (v != IGNORE).float().mean().item() for k, v in pseudo.items()}
    return (f'CAG stage start (synthetic): anchor labels on '
            f'{share["anchor"]:.0%} and probability labels on '
            f'{share["prob"]:.0%} of the first target batch\'s cells')


@torch.no_grad()
def prepare_depth(project: nn.Module, term: nn.Module, batches: List[dict],
                  generator: torch.Generator) -> str:
    """Random per-class GMMs of the config's class and component counts on
    the network's stride-8 grid of these inputs (shared by both trainers):
    weights softmax(N(0, 1)), column / row / depth means uniform over the
    grid and the synthetic depth range, standard deviations a quarter of
    each range times U(0.5, 1.5).

    Returns:
        str: The grid and sizes.
    """
    image = batches[0]['source']['inputs'][0]
    device = next(project.parameters()).device
    was_training = project.training
    project.eval()
    feats = project.extract_feat(torch.zeros(1, *image.shape, device=device))
    project.train(was_training)
    height, width = feats[term.feature_index].shape[2:]
    num_classes, k = term.gmm.weights.shape
    low, high = 65536 / (RAW_DEPTH[1] + 1), 65536 / (RAW_DEPTH[0] + 1)
    spans = torch.tensor([width, height, high - low], dtype=torch.float64)
    offsets = torch.tensor([0, 0, low], dtype=torch.float64)

    def uniform(*shape):
        return torch.rand(*shape, generator=generator, dtype=torch.float64)

    weights = torch.randn(num_classes, k, generator=generator,
                          dtype=torch.float64).softmax(1)
    means = offsets + spans * uniform(num_classes, k, 3)
    variances = (spans / 4 * (0.5 + uniform(num_classes, k, 3)))**2
    term.gmm.load_state_dict(dict(
        weights=weights, means=means, variances=variances,
        grid_size=torch.tensor([width, height])))
    return (f'depth: synthetic GMMs, {num_classes} classes x {k} components '
            f'on the {width}x{height} grid')


@torch.no_grad()
def prepare_dacs(project: nn.Module, term: nn.Module, batches: List[dict],
                 generator: torch.Generator) -> str:
    """A teacher that is confident on half the target pixels, as a trained
    one is on many (a random network's top probability never reaches
    0.968, so q would be 0 and the pseudo-labels weightless): the
    classifier is scaled (:func:`scale_classifier`) on the model's
    train-mode logits of the first target batch (BN on its statistics, as
    the teacher runs; the running statistics of these forwards stay, both
    trainers start from them); the teacher copies the student at t = 0.

    Returns:
        str: The confident share of the first target batch's pixels.
    """
    x = project.data_preprocessor(batches[0], True)['inputs']['target']
    temperature = getattr(project, 'logit_temperature', 1.0)

    def logits() -> Tensor:
        return project.decode_head(project.extract_feat(x)) / temperature

    scale_classifier(project, logits(), term.pseudo_threshold)
    p = logits().softmax(1).max(1).values
    share = (p >= term.pseudo_threshold).float().mean().item()
    return (f'DACS start (synthetic): {share:.0%} of the first target '
            'batch\'s logits (head resolution) confident')


def prepare_terms(project: nn.Module, batches: List[dict]) -> List[str]:
    """The synthetic state the terms need before a step (see
    :func:`prepare_cag`, :func:`prepare_depth`, :func:`prepare_dacs`);
    modifies ``project`` and ``batches`` in place. Returns notes to
    print."""
    generator = torch.Generator().manual_seed(1)
    notes = []
    for term in getattr(project, 'uda_terms', []):
        name = type(term).__name__
        if name == 'CategoryAnchorGuided':
            notes.append(prepare_cag(project, term, batches, generator))
        elif name == 'DepthDistribution':
            notes.append(prepare_depth(project, term, batches, generator))
        elif name == 'DACS':
            notes.append(prepare_dacs(project, term, batches, generator))
    return notes


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


def measure(step: Callable[[], Any], device: str,
            params: List[torch.Tensor]) -> Tuple[float, int, Any]:
    """Seconds and peak bytes of one call of ``step``, and its result."""
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        result = step()
        torch.cuda.synchronize()
        return (time.perf_counter() - start,
                torch.cuda.max_memory_allocated(), result)
    with SavedTensorPeak(params) as peak:
        start = time.perf_counter()
        result = step()
        seconds = time.perf_counter() - start
    return seconds, peak.peak, result


def part_of(key: str) -> str:
    """The network part a state-dict key belongs to: its first name, or
    ``uda_terms.<i>.<name>`` inside a term (discriminator, heads, ...)."""
    names = key.split('.')
    return '.'.join(names[:3] if names[0] == 'uda_terms' else names[:1])


def compare_parts(project: nn.Module, reference: nn.Module,
                  before: Dict[str, Tensor]) -> Dict[str, Dict[str, float]]:
    """Per part (:func:`part_of`) of the two trainers' models: ``weights``,
    max |project - reference| over its parameters; ``update``, max
    |project - before| over them (how far the step moved them); and
    ``buffers``, the largest relative difference of its floating-point
    buffers (BN statistics, anchors, GMMs, a frozen copy):
    max |project - reference| / max |project| per tensor."""
    params = {name for name, _ in project.named_parameters()}
    other = reference.state_dict()
    parts: Dict[str, Dict[str, float]] = {}
    for key, value in project.state_dict().items():
        if not value.is_floating_point():
            continue
        value = value.detach()
        diff = (value - other[key].detach()).abs().max().item()
        part = parts.setdefault(part_of(key),
                                dict(weights=0.0, update=0.0, buffers=0.0))
        if key in params:
            part['weights'] = max(part['weights'], diff)
            part['update'] = max(part['update'],
                                 (value - before[key]).abs().max().item())
        else:
            scale = value.abs().max().item()
            part['buffers'] = max(part['buffers'],
                                  diff / scale if scale > 0 else diff)
    return parts


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


def mean_ce(logits: Tensor, labels: Tensor,
            weight: Optional[Tensor] = None,
            over_labelled: bool = True) -> Tensor:
    """Per-pixel CE (times ``weight``, (B, H, W)), mean over the labelled
    pixels (0 when there is none: torch's mean is NaN there, a guard as the
    project's) or, with ``over_labelled=False``, over all pixels, ignored
    ones included (mmseg's ``avg_non_ignore=False``; DACS's mixed CE)."""
    ce = F.cross_entropy(logits, labels, ignore_index=IGNORE,
                         reduction='none')
    if weight is not None:
        ce = ce * weight
    if over_labelled:
        return ce.sum() / (labels != IGNORE).sum().clamp(min=1)
    return ce.mean()


def berhu(pred: Tensor, target: Tensor) -> Tensor:
    """Mean reverse Huber loss, ``c = 0.2 max|e|`` (METHODS.md sec. 5)."""
    e = (pred - target).abs()
    c = 0.2 * e.max().detach()
    return torch.where(e <= c, e, (e**2 + c**2) / (2 * c)).mean()


def bce(logits: Tensor, label: float) -> Tensor:
    return F.binary_cross_entropy_with_logits(logits,
                                              torch.full_like(logits, label))


class ReleasedMaskedMean(torch.autograd.Function):
    """The masked mean of CAG's release: the value is the mean over the
    masked pixels; the backward gives every masked pixel ``2 / (h w)`` of
    the upstream gradient, whatever the region's size (METHODS.md 6.1)."""

    @staticmethod
    def forward(ctx, feature: Tensor, mask: Tensor) -> Tensor:
        ctx.save_for_backward(mask)  # feature (D, h, w), mask (h, w)
        return feature[:, mask].mean(1)

    @staticmethod
    def backward(ctx, grad: Tensor):
        mask, = ctx.saved_tensors
        height, width = mask.shape
        return grad[:, None, None] * mask * (2 / (height * width)), None


class ReferenceLoop:
    """A released single-GPU iteration, written from METHODS.md (base).

    Subclasses implement :meth:`step` for one method; the base normalises
    inputs as the config's data preprocessor on the device and keeps the
    last step's losses under the names the project logs.
    """

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
        head = cfg.model.decode_head
        self.align_corners = head.get('align_corners', True)
        self.avg_non_ignore = head.get('loss_decode', {}).get(
            'avg_non_ignore', False)
        self.device = device
        self.losses: Dict[str, Tensor] = {}

    @staticmethod
    def kind(cfg: Config) -> Optional[str]:
        """'maxsquare', 'fada', 'cag', 'depth', 'dacs' or None (no
        reference)."""
        terms = cfg.model.get('uda_terms', [])
        if cfg.model.get('auxiliary_head') or not terms:
            return None
        mic = [t for t in terms[1:] if t.type == 'MaskedImageConsistency'
               and t.get('mode', 'separatetrgaug') == 'separatetrgaug']
        if terms[0].type == 'DACS' and len(terms) == 1 + len(mic) <= 2:
            return 'dacs'
        if len(terms) != 1:
            return None
        term = terms[0]
        if term.type == 'FineGrainedAdversarial' and term.get(
                'class_aware', True):
            return 'fada'
        if (term.type == 'TargetOutputLoss' and not term.get('guidance')
                and term.loss.type in ('MaxSquareLoss', 'EntropyLoss')):
            return 'maxsquare'
        if term.type == 'CategoryAnchorGuided' and CAGReference.released(
                term.get('distance_loss') or {}):
            return 'cag'
        if term.type == 'DepthDistribution':
            return 'depth'
        return None

    @classmethod
    def create(cls, model: torch.nn.Module, cfg: Config,
               device: str) -> 'ReferenceLoop':
        """The reference loop of ``cfg``'s method."""
        kind = cls.kind(cfg)
        if kind is None:
            raise ValueError(f'benchmark_train: no reference loop for this '
                             f'config ({SUPPORTED}); use --no-reference')
        return REFERENCE_LOOPS[kind](model, cfg, device)

    def prepare(self, batch: dict) -> None:
        """What the released loader would have done (untimed)."""

    def images(self, domain: dict) -> Tensor:
        x = torch.stack(domain['inputs']).to(
            self.device, non_blocking=True).float()
        if self.bgr_to_rgb:
            x = x.flip(1)
        return (x - self.mean) / self.std

    def labels(self, domain: dict) -> Tensor:
        return torch.stack([s.gt_sem_seg.data[0]
                            for s in domain['data_samples']]).to(self.device)

    def inputs(self, batch: dict) -> Tuple[Tensor, Tensor, Tensor]:
        """Normalised source images (B, 3, H, W), their labels (B, H, W)
        and normalised target images on the device."""
        source = batch['source']
        return (self.images(source), self.labels(source),
                self.images(batch['target']))

    def logits(self, x: torch.Tensor,
               network: Optional[Tuple[nn.Module, nn.Module]] = None):
        """Backbone features and main logits upsampled to the input, of the
        model or of another (backbone, decode head) ``network``."""
        backbone, head = network or (self.model.backbone,
                                     self.model.decode_head)
        feats = backbone(x)
        out = head(feats) / self.temperature
        out = F.interpolate(out, size=x.shape[2:], mode='bilinear',
                            align_corners=self.align_corners)
        return feats, out

    def source_ce(self, logits: Tensor, labels: Tensor) -> Tensor:
        """The source CE with the config's reduction (``avg_non_ignore``:
        over the labelled pixels, else over all of them)."""
        return mean_ce(logits, labels, over_labelled=self.avg_non_ignore)

    def source_backward(self, x_s: Tensor, y_s: Tensor):
        """The source forward and its CE, back-propagated at once: the
        backbone features, the upsampled logits and the detached CE."""
        feats, s = self.logits(x_s)
        ce = self.source_ce(s, y_s)
        ce.backward()
        return feats, s, ce.detach()

    def head_optimizer(self, cfg: Config, lr_factor: float = 1.0):
        """The segmentor's optimiser with a 10x classifier group: SGD with
        a backbone group (the released repeated-listing arithmetic for
        ``RepeatedListingSGD``), or DAFormer's AdamW (sec. 7.5) whose
        norm parameters are not decayed; every lr times ``lr_factor``."""
        opt = cfg.optim_wrapper.get('segmentor', cfg.optim_wrapper).optimizer
        lr = opt.lr * lr_factor
        heads, norms, rest = [], [], []
        for name, p in self.model.named_parameters():
            if not p.requires_grad or 'uda_terms' in name:
                continue
            if 'head' in name:
                heads.append(p)
            elif 'norm' in name:
                norms.append(p)
            else:
                rest.append(p)
        if opt.type == 'RepeatedListingSGD':
            return ReleasedSGD(
                [(release_listings(self.model.backbone), lr),
                 ({p: 1 for p in heads}, 10 * lr)], opt.momentum,
                opt.weight_decay)
        if opt.type == 'AdamW':
            return torch.optim.AdamW(
                [dict(params=rest), dict(params=norms, weight_decay=0.0),
                 dict(params=heads, lr=10 * lr)],
                lr=lr, betas=tuple(opt.get('betas', (0.9, 0.999))),
                eps=opt.get('eps', 1e-8), weight_decay=opt.weight_decay)
        return torch.optim.SGD(
            [dict(params=rest + norms), dict(params=heads, lr=10 * lr)],
            lr=lr, momentum=opt.momentum, weight_decay=opt.weight_decay)

    def learning_rates(self) -> List[float]:
        """The distinct learning rates of this loop's optimisers."""
        rates = set()
        for opt in (getattr(self, 'sgd', None), getattr(self, 'adam', None)):
            if isinstance(opt, ReleasedSGD):
                rates.update(lr for _, lr in opt.groups)
            elif opt is not None:
                rates.update(g['lr'] for g in opt.param_groups)
        return sorted(rates)

    def step(self, batch: dict) -> None:
        raise NotImplementedError


def wrapper_learning_rates(wrapper) -> List[float]:
    """The distinct learning rates of an optimiser wrapper (or dict)."""
    inner = (list(dict(wrapper.items()).values())
             if isinstance(wrapper, OptimWrapperDict) else [wrapper])
    return sorted({g['lr'] for w in inner for g in w.optimizer.param_groups})


class MaxSquareReference(ReferenceLoop):
    """MaxSquare / MinEnt / IW (METHODS.md sec. 2): source CE backward,
    target loss backward, one SGD step."""

    def __init__(self, model, cfg, device) -> None:
        super().__init__(model, cfg, device)
        self.sgd = self.head_optimizer(cfg)
        loss = self.terms[0].loss
        self.loss_type = loss.type
        self.lam = loss.get('loss_weight', 1.0)
        self.alpha = loss.get('iw_ratio')
        self.loss_name = 'tgt.' + loss.get(
            'loss_name', 'loss_entropy'
            if loss.type == 'EntropyLoss' else 'loss_max_square')

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
        x_s, y_s, x_t = self.inputs(batch)
        self.sgd.zero_grad()
        _, s, ce = self.source_backward(x_s, y_s)
        del s
        _, t = self.logits(x_t)
        loss = self.target_loss(t)
        loss.backward()
        self.sgd.step()
        self.losses = {'src.decode.loss_ce': ce,
                       self.loss_name: loss.detach()}


class FADAReference(ReferenceLoop):
    """FADA (METHODS.md sec. 3): source CE backward; adversarial term with
    D frozen backward; segmentation step; D's loss backward and step."""

    def __init__(self, model, cfg, device) -> None:
        super().__init__(model, cfg, device)
        self.sgd = self.head_optimizer(cfg)
        term = self.terms[0]
        d_opt = cfg.optim_wrapper.discriminator.optimizer
        self.disc = model.uda_terms[0].discriminator
        self.adam = torch.optim.Adam(
            self.disc.parameters(), lr=d_opt.lr,
            betas=tuple(d_opt.get('betas', (0.9, 0.999))))
        self.adv_weight = term.get('adv_weight', 0.001)
        self.disc_weight = term.get('disc_weight', 0.5)
        self.clip = term.get('clip', 0.9)

    def step(self, batch: dict) -> None:
        x_s, y_s, x_t = self.inputs(batch)
        self.sgd.zero_grad()
        feats_s, s, ce = self.source_backward(x_s, y_s)
        f_s = feats_s[3].detach()
        a_s = F.softmax(s.detach(), 1).clamp(max=self.clip)
        del feats_s, s
        feats_t, t = self.logits(x_t)
        f_t = feats_t[3]
        a_t = F.softmax(t.detach(), 1).clamp(max=self.clip)
        zeros = torch.zeros_like(a_t)
        for p in self.disc.parameters():
            p.requires_grad_(False)
        adv = self.adv_weight * sce(self.disc(f_t, x_t.shape[2:]),
                                    torch.cat([a_t, zeros], 1))
        adv.backward()
        self.sgd.step()
        for p in self.disc.parameters():
            p.requires_grad_(True)
        self.adam.zero_grad()
        d_loss = self.disc_weight * (sce(
            self.disc(f_s, x_s.shape[2:]),
            torch.cat([a_s, torch.zeros_like(a_s)], 1)) + sce(
                self.disc(f_t.detach(), x_t.shape[2:]),
                torch.cat([zeros, a_t], 1)))
        d_loss.backward()
        self.adam.step()
        self.losses = {'src.decode.loss_ce': ce,
                       'tgt.loss_adv': adv.detach(),
                       'tgt.loss_disc': d_loss.detach()}


class CAGReference(ReferenceLoop):
    """One CAG-UDA stage iteration (METHODS.md sec. 4, 6.1, 6.4).

    The frozen prediction model is this loop's own copy of the network it
    is given (the stage start), in eval mode without gradient. The anchors
    are read from the model's buffers (the synthetic stage start both
    trainers share).
    """

    def __init__(self, model, cfg, device) -> None:
        super().__init__(model, cfg, device)
        term = self.terms[0]
        distance = term.get('distance_loss') or {}
        self.feature = term.get('feature', 'head')
        self.num_classes = term.num_classes
        self.margin = term.get('margin', 2.5)
        self.prob_threshold = term.get('prob_threshold', 0.95)
        self.ce_weight = term.get('target_ce_weight', 0.5)
        self.dis_weight = term.get('distance_weight', 0.7)
        self.min_pixels = distance.get('min_pixels', 10)
        self.rescale_above = distance.get('rescale_above', 5.0)
        self.dis_scale = distance.get('loss_weight', 10.0)
        self.anchors = model.uda_terms[0].anchors.detach().clone()
        self.frozen = [
            copy.deepcopy(m).eval().requires_grad_(False)
            for m in (model.backbone, model.decode_head)
        ]
        opt = cfg.optim_wrapper.optimizer
        # The release steps its poly scheduler before the optimiser: the
        # first iteration already uses lr0 (1 - 1 / horizon)^0.9.
        lr = opt.lr * (1 - 1 / cfg.get('poly_horizon', 90000))**0.9
        params = [
            p for m in (model.backbone, model.decode_head)
            for p in m.parameters() if p.requires_grad
        ]
        self.sgd = torch.optim.SGD(params, lr=lr, momentum=opt.momentum,
                                   weight_decay=opt.weight_decay)

    @staticmethod
    def released(distance: dict) -> bool:
        """Whether the distance loss is the released form (the only one
        this loop implements)."""
        return (distance.get('distance', 'smooth_l1') == 'smooth_l1'
                and distance.get('gradient', 'released') == 'released'
                and distance.get('rescale_above', 5.0) is not None)

    def forward(self, backbone, head, x: Tensor) -> Tuple[Tensor, Tensor]:
        """Anchor-space feature and logits at head resolution."""
        feats = backbone(x)
        if self.feature == 'head':
            feature = head._forward_feature(feats)
            return feature, head.cls_seg(feature)
        return feats[self.feature], head(feats)

    def distance(self, feature: Tensor, labels: Tensor,
                 prediction: Tensor) -> Tensor:
        """``10 * mean over pairs of l`` as released, pair by pair."""
        losses = []
        for b in range(feature.shape[0]):
            for c in range(self.num_classes):
                mask = (labels[b] == c) & (prediction[b] == c)
                if mask.sum() < self.min_pixels:
                    continue
                v = ReleasedMaskedMean.apply(feature[b], mask)
                loss = F.smooth_l1_loss(v, self.anchors[c])
                while loss > self.rescale_above:
                    loss = loss / 10
                losses.append(loss)
        if not losses:  # the release divides by zero here: guarded
            return 0 * feature.sum()
        return self.dis_scale * torch.stack(losses).sum() / len(losses)

    @torch.no_grad()
    def pseudo_labels(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """ATI/PLA and probability labels of the frozen model."""
        feature, logits = self.forward(*self.frozen, x)
        distances = torch.stack([
            (feature - a[:, None, None]).pow(2).sum(1).sqrt()
            for a in self.anchors
        ], 1)
        two = distances.sort(1).values[:, :2]
        active = two[:, 1] - two[:, 0] >= self.margin
        ignore = torch.full_like(active, IGNORE, dtype=torch.long)
        anchor = torch.where(active, distances.argmin(1), ignore)
        confidence, arg = F.softmax(logits, 1).max(1)
        prob = torch.where(confidence > self.prob_threshold, arg, ignore)
        return anchor, prob

    def step(self, batch: dict) -> None:
        x_s, y_s, x_t = self.inputs(batch)
        net = (self.model.backbone, self.model.decode_head)
        self.sgd.zero_grad()
        f_s, z_s = self.forward(*net, x_s)
        ce_s = self.source_ce(
            F.interpolate(z_s, size=y_s.shape[1:], mode='bilinear',
                          align_corners=self.align_corners), y_s)
        y_small = F.interpolate(y_s[:, None].float(), size=z_s.shape[2:],
                                mode='nearest')[:, 0].long()
        dis_s = self.dis_weight * self.distance(f_s, y_small,
                                                z_s.detach().argmax(1))
        (ce_s + dis_s).backward()
        del f_s, z_s
        f_t, z_t = self.forward(*net, x_t)
        y_a, y_p = self.pseudo_labels(x_t)
        ce_a = self.ce_weight * mean_ce(z_t, y_a)
        ce_p = self.ce_weight * mean_ce(z_t, y_p)
        dis_t = self.dis_weight * self.distance(f_t, y_a,
                                                z_t.detach().argmax(1))
        (ce_a + ce_p + dis_t).backward()
        self.sgd.step()
        self.losses = {'src.decode.loss_ce': ce_s.detach(),
                       'src.loss_dis': dis_s.detach(),
                       'tgt.loss_ce_anchor': ce_a.detach(),
                       'tgt.loss_ce_prob': ce_p.detach(),
                       'tgt.loss_dis': dis_t.detach()}


def pillow_nearest(frame: Tensor, size: Tuple[int, int]) -> np.ndarray:
    """Pillow's nearest resize of an (H, W) map to (w, h) ``size``."""
    array = frame.cpu().numpy()
    array = array.astype(np.uint8 if not frame.is_floating_point()
                         else np.float32)
    return np.asarray(Image.fromarray(array).resize(size, Image.NEAREST))


class DepthReference(ReferenceLoop):
    """One depth-distribution iteration (METHODS.md sec. 5, 6.2-6.4).

    The depth and density heads and D are the model's networks; the GMM
    parameters are read from its buffers (the synthetic GMMs both trainers
    share); the weights are the config's per-task ones (6.2), D's BCE
    weighs 1 per domain (6.4).
    """

    def __init__(self, model, cfg, device) -> None:
        super().__init__(model, cfg, device)
        term = self.terms[0]
        self.w_bal_src = term.get('source_balance_weight', 0.01)
        self.w_depth = term.get('depth_weight', 0.005)
        self.w_bal_tgt = term.get('target_balance_weight', 0.05)
        self.w_adv = term.get('adv_weight', 0.05)
        depth = model.uda_terms[0]
        self.feature_index = term.get('feature_index', 3)
        self.depth_head = depth.depth_head
        self.density_head = depth.density_head
        self.disc = depth.discriminator
        gmm = depth.gmm
        self.gmm = [t.detach().clone() for t in (gmm.weights, gmm.means,
                                                 gmm.variances)]
        self.grid = tuple(gmm.grid_size.tolist())  # (w, h)
        self.class_weight = getattr(model.decode_head.loss_decode,
                                    'class_weight', None)
        self.num_classes = model.decode_head.num_classes
        g_opt = cfg.optim_wrapper.segmentor.optimizer
        params = [
            p for m in (model.backbone, model.decode_head, self.depth_head,
                        self.density_head) for p in m.parameters()
            if p.requires_grad
        ]
        self.sgd = torch.optim.SGD(params, lr=g_opt.lr,
                                   momentum=g_opt.momentum,
                                   weight_decay=g_opt.weight_decay)
        d_opt = cfg.optim_wrapper.discriminator.optimizer
        self.adam = torch.optim.Adam(
            self.disc.parameters(), lr=d_opt.lr,
            betas=tuple(d_opt.get('betas', (0.9, 0.999))))
        self._cells: Dict[int, Tuple[Tensor, Tensor]] = {}

    def prepare(self, batch: dict) -> None:
        """GT label and depth at the grid's cell centres (Pillow)."""
        labels, depths = [], []
        for sample in batch['source']['data_samples']:
            labels.append(pillow_nearest(sample.gt_sem_seg.data[0],
                                         self.grid))
            depths.append(pillow_nearest(sample.gt_depth_map.data[0],
                                         self.grid))
        self._cells[id(batch)] = (
            torch.from_numpy(np.stack(labels)).long().to(self.device),
            torch.from_numpy(np.stack(depths)).to(self.device))

    def target(self, classes: Tensor, depth: Tensor) -> Tensor:
        """``255 (1 - exp(-1e6 p))`` with ``p`` class c's mixture at
        (column, row, depth) of each cell, float64, (B, 1, h, w)."""
        weights, means, variances = self.gmm
        height, width = classes.shape[1:]
        cols = torch.arange(width, device=classes.device).expand_as(classes)
        rows = torch.arange(height, device=classes.device)[:, None]
        v = torch.stack([cols, rows.expand_as(classes), depth.detach()],
                        -1).double()[..., None, :]  # (B, h, w, 1, 3)
        mu, var = means[classes], variances[classes]  # (B, h, w, K, 3)
        log_n = -0.5 * (torch.log(2 * math.pi * var) +
                        (v - mu)**2 / var).sum(-1)
        p = (weights[classes] * log_n.exp()).sum(-1)
        return (255 * (1 - torch.exp(-1e6 * p))).float()[:, None]

    def heads(self, x: Tensor):
        feats = self.model.backbone(x)
        z = self.model.decode_head(feats)
        up = F.interpolate(z, size=x.shape[2:], mode='bilinear',
                           align_corners=True)
        f = feats[self.feature_index]
        return z, up, self.depth_head(f), self.density_head(f)

    def d_input(self, up: Tensor, density: Tensor) -> Tensor:
        """Normalised entropy map times the upsampled density."""
        p = F.softmax(up, 1)
        entropy = -p * torch.log2(p + 1e-30) / math.log2(self.num_classes)
        return entropy * F.interpolate(density, size=up.shape[2:],
                                       mode='bilinear', align_corners=True)

    def step(self, batch: dict) -> None:
        src = batch['source']
        x_s, y_s, x_t = self.inputs(batch)
        d_s = torch.stack([s.gt_depth_map.data
                           for s in src['data_samples']]).to(self.device)
        y_cells, d_cells = self._cells.pop(id(batch))
        self.sgd.zero_grad()
        self.adam.zero_grad()
        # G, source.
        z_s, up_s, dep_s, den_s = self.heads(x_s)
        ce = F.cross_entropy(up_s, y_s, weight=self.class_weight,
                             ignore_index=IGNORE)
        c_s = z_s.detach().argmax(1)
        target_s = self.target(c_s, d_cells * (y_cells == c_s))
        bal_s = self.w_bal_src * berhu(den_s, target_s)
        depth = self.w_depth * berhu(
            F.interpolate(dep_s, size=x_s.shape[2:], mode='bilinear',
                          align_corners=True), d_s)
        (ce + bal_s + depth).backward()
        m_s = self.d_input(up_s.detach(), den_s.detach())
        del z_s, up_s, dep_s, den_s
        # G, target, D frozen.
        z_t, up_t, dep_t, den_t = self.heads(x_t)
        d_t = dep_t.detach()[:, 0]
        target_t = self.target(z_t.detach().argmax(1), d_t) * (
            d_t > 0)[:, None]
        bal_t = self.w_bal_tgt * berhu(den_t, target_t)
        m_t = self.d_input(up_t, den_t)
        for p in self.disc.parameters():
            p.requires_grad_(False)
        adv = self.w_adv * bce(self.disc(m_t), 0.)
        (bal_t + adv).backward()
        for p in self.disc.parameters():
            p.requires_grad_(True)
        # D on detached maps, then both steps.
        d_loss = bce(self.disc(m_s), 0.) + bce(self.disc(m_t.detach()), 1.)
        d_loss.backward()
        self.sgd.step()
        self.adam.step()
        self.losses = {'src.decode.loss_ce': ce.detach(),
                       'src.loss_bal_src': bal_s.detach(),
                       'src.loss_depth': depth.detach(),
                       'tgt.loss_bal_tgt': bal_t.detach(),
                       'tgt.loss_adv': adv.detach(),
                       'tgt.loss_disc': d_loss.detach()}


def warmup_ratio(cfg: Config) -> float:
    """DAFormer's lr factor at iteration 0 (METHODS.md sec. 7.5): the poly
    factor is 1 there and the linear warm-up's ``1 - (1 - 0/W)(1 - r)`` is
    its ratio r, the config's (the start factor of a ``LinearLR`` from
    iteration 0; 1 without a warm-up)."""
    for scheduler in cfg.get('param_scheduler') or []:
        if scheduler.get('type') == 'LinearLR' and scheduler.get(
                'begin', 0) == 0:
            return scheduler.get('start_factor', 1.0 / 3)
    return 1.0


class DACSReference(ReferenceLoop):
    """One DACS iteration in DAFormer's order (METHODS.md sec. 7.1; the
    original DACS's settings, sec. 7.10, through the term's options).

    The teacher modules are those of the model copy's held teacher (so
    both state dicts compare, teacher included); this loop updates and
    runs them with its own code. The optimiser is the segmentor's (SGD or
    DAFormer's AdamW) at iteration 0's lr.
    """

    def __init__(self, model, cfg, device) -> None:
        super().__init__(model, cfg, device)
        self.term = self.terms[0]
        opt = cfg.optim_wrapper.get('segmentor', cfg.optim_wrapper).optimizer
        self.sgd = self.head_optimizer(
            cfg, warmup_ratio(cfg) if opt.type == 'AdamW' else 1.0)
        teacher = model.uda_terms[0].teacher
        self.teacher = (teacher.backbone, teacher.decode_head)
        self.t = 0
        self.mic = self.terms[1] if len(self.terms) == 2 else None

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
        k = self.t - (self.term.get('ema_update', 'before') == 'after')
        for tp, sp in zip(teacher, student):
            if self.t == 0:
                tp.copy_(sp)
            else:
                a = min(1 - 1 / (k + 1), self.term.get('alpha', 0.999))
                tp.mul_(a).add_(sp, alpha=1 - a)
        self.t += 1

    def step(self, batch: dict) -> None:
        term = self.term
        x_s, y_s, x_t = self.inputs(batch)
        self.sgd.zero_grad()
        self.update_teacher()
        _, s, ce = self.source_backward(x_s, y_s)
        del s
        with torch.no_grad():
            for module in self.teacher:
                module.train()  # BN on the batch's statistics
            _, z = self.logits(x_t, self.teacher)
            p_max, y_t = z.softmax(1).max(1)
        confident = (p_max >= term.get('pseudo_threshold', 0.968)).float()
        if term.get('quality_scope', 'batch') == 'image':
            quality = confident.mean((1, 2), keepdim=True)
        else:
            quality = confident.mean()
        w_t = quality.expand_as(p_max).clone()
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
        mixed = mean_ce(z_m, y_m, w_m, over_labelled=False)
        mixed.backward()
        del z_m
        self.losses = {'src.decode.loss_ce': ce,
                       'tgt.loss_mix': mixed.detach(),
                       'tgt.pseudo_quality': quality.mean()}
        if self.mic is not None:
            self.losses['tgt.loss_mic'] = self.masked_backward(x_t, y_t, w_t)
        self.sgd.step()

    def masked_backward(self, x_t: Tensor, y_t: Tensor,
                        w_t: Tensor) -> Tensor:
        """MIC's masked batch (sec. 7.6, 'separatetrgaug'), after the
        mixed backward, on the un-mixed pseudo-labels and weight: one
        colour augmentation call (blur gate always drawn), the block mask
        in normalised space, w_t-weighted CE over all pixels."""
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
        weight = mic.get('masked_loss', {}).get('loss_weight', 1.0)
        loss = weight * mean_ce(z, y_t, w_t, over_labelled=False)
        loss.backward()
        return loss.detach()


REFERENCE_LOOPS = dict(maxsquare=MaxSquareReference, fada=FADAReference,
                       cag=CAGReference, depth=DepthReference,
                       dacs=DACSReference)
SUPPORTED = ('MaxSquare-family main-head terms, FADA, a CAG-UDA stage with '
             'the released distance loss, the depth method, DACS alone and '
             'DACS + MIC only')


# ------------------------------------------------------------------ main --


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
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
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    # The weights are synthetic: no pretrained checkpoint (the DAFormer
    # variant's ImageNet ResNetV1c) is loaded by the runner-like init.
    cfg.model.pretrained = None
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
    batch_size = args.batch_size or cfg.train_dataloader.get('batch_size', 1)
    if batch_size < 2 and pooled_batch_norm(cfg):
        raise SystemExit(
            f'benchmark_train: batch size {batch_size} per domain, but '
            f'{cfg.model.decode_head.type} batch-normalises its image-pooled '
            'feature, which train mode cannot do for one image: use '
            '--batch-size 2 or more (the config trains with '
            f'{cfg.train_dataloader.get("batch_size", 1)})')
    torch.backends.cudnn.benchmark = bool(
        cfg.get('env_cfg', {}).get('cudnn_benchmark', False))
    base = train_scales(cfg)
    scales = tuple((max(32, round(w * scale)), max(32, round(h * scale)))
                   for w, h in base)
    num_classes = cfg.model.decode_head.num_classes
    with_depth = any(t.type == 'DepthDistribution'
                     for t in cfg.model.get('uda_terms', []))

    # mmengine logs every parameter's init and paramwise option at INFO.
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    torch.manual_seed(0)
    # One process: SyncBN is plain BN, as the runner makes it.
    project = revert_sync_batchnorm(MODELS.build(cfg.model))
    project.init_weights()
    project.to(device).train()
    batches = [synthetic_batch(scales, num_classes, seed, batch_size,
                               with_depth)
               for seed in range(warmup + iters)]
    notes = prepare_terms(project, batches)
    use_reference = not args.no_reference and ReferenceLoop.kind(cfg)
    reference = None
    if use_reference:
        # The released loops keep PyTorch's default (NCHW) format.
        reference = ReferenceLoop.create(
            copy.deepcopy(project).to(memory_format=torch.contiguous_format),
            cfg, device)
    elif not args.no_reference:
        print(f'benchmark_train: no reference loop for this config '
              f'({SUPPORTED}); project trainer only')
    wrapper = build_optim_wrapper(project, cfg.optim_wrapper)
    first_iteration_lrs(cfg, wrapper)

    def project_step(batch):
        return lambda: project.train_step(batch, wrapper)

    def reference_step(batch):
        return lambda: reference.step(batch)

    trainers = {'project': (project_step, list(project.parameters()))}
    if reference is not None:
        trainers['reference'] = (reference_step,
                                 list(reference.model.parameters()))
    times: Dict[str, List[float]] = {k: [] for k in trainers}
    peaks: Dict[str, int] = {k: 0 for k in trainers}
    before = {k: v.detach().clone()
              for k, v in project.state_dict().items()}
    parts, losses = {}, {}
    for i, batch in enumerate(batches):
        if reference is not None:
            reference.prepare(batch)
        for name, (make_step, params) in trainers.items():
            torch.manual_seed(STEP_SEED + i)  # same dropout, DACS draws
            seconds, peak, result = measure(make_step(batch), device, params)
            if i >= warmup:
                times[name].append(seconds)
            peaks[name] = max(peaks[name], peak)
            if i == 0 and name == 'project':
                log_vars = result
        if i == 0 and reference is not None:
            parts = compare_parts(project, reference.model, before)
            losses = {
                k: (float(torch.as_tensor(log_vars[k]).detach()), v.item())
                for k, v in reference.losses.items() if k in log_vars
            }

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
          + (f', options {args.cfg_options}' if args.cfg_options else '')
          + (' [SMOKE: tiny network, figures mean nothing]'
             if args.smoke else ''))
    for note in notes:
        print(f'  {note}')
    memory = 'peak allocated' if on_gpu else 'peak saved-for-backward'
    results: Dict[str, Any] = {}
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
    results['batch_size'] = batch_size
    results['project_time'] = median['project']
    results['project_peak_bytes'] = peaks['project']
    if reference is not None:
        results['reference_time'] = median['reference']
        results['reference_peak_bytes'] = peaks['reference']
        results['speedup'] = median['reference'] / median['project']
        results['memory_ratio'] = peaks['project'] / peaks['reference']
        results['first_step_max_abs_diff'] = max(
            p['weights'] for p in parts.values())
        results['first_step_max_buffer_rel_diff'] = max(
            p['buffers'] for p in parts.values())
        results['first_step_parts'] = parts
        results['first_step_losses'] = losses
        results['learning_rates'] = dict(
            project=wrapper_learning_rates(wrapper),
            reference=reference.learning_rates())
        print(f'  speed-up (reference time / project time): '
              f'{results["speedup"]:.2f}x; memory ratio (project / '
              f'reference): {results["memory_ratio"]:.3f}')
        print('  learning rates at iteration 0: ' + '; '.join(
            name + ' ' + ', '.join(f'{lr:.8g}' for lr in rates)
            for name, rates in results['learning_rates'].items()))
        print('  losses of the first step (project / reference): ' +
              ', '.join(f'{k} {p:.6g} / {r:.6g}'
                        for k, (p, r) in losses.items()))
        print('  weights after the first step: max |project - reference| = '
              f'{results["first_step_max_abs_diff"]:.3g}; buffers: max '
              'relative difference '
              f'{results["first_step_max_buffer_rel_diff"]:.3g}; per part:')
        print(f'    {"":30s}{"|p - r| weights":>16s}{"step update":>13s}'
              f'{"rel. buffers":>14s}')
        for part, p in parts.items():
            print(f'    {part:30s}{p["weights"]:>16.3g}{p["update"]:>13.3g}'
                  f'{p["buffers"]:>14.3g}')
    return results


if __name__ == '__main__':
    main()
