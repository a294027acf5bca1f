"""Benchmark the training data pipeline of a config, or the two resize paths.

Pipeline mode (a training config)::

    python tools/benchmark_data.py CONFIG [--data-root DIR | NAME=DIR ...]
        [--make-data DIR [--num-images N]] [--workers N] [--samples N]
        [--rounds R] [--size-factor F] [--cfg-options K=V ...] [--smoke]

builds the config's real training dataset (``train_dataloader.dataset``,
e.g. the ``UDADataset`` of source + target) and measures images/s through a
DataLoader with N workers as the config's loader (its ``collate_fn``,
``batch_size``, ``pin_memory`` where a GPU exists), against a loader written
here shaped like the released loops' (PIL decode, PIL bicubic resize to the
config's sizes, the config's random flip / Gaussian blur / colour jitter /
random resize and crop done in PIL, images shipped as float32 mean-subtracted
CHW tensors and labels as int64) on the same files with the same N workers.
Prints both, their ratio, the bytes one batch ships between processes, and
where the time goes (per-transform mean time over samples, measured by
running each pipeline's transforms one by one in the main process).
``--data-root DIR`` points every dataset at ``DIR/<name>`` (``gta5``,
``cityscapes``, ``synthia``, ``nthu``, ``mapillary``: the layout of
``tools/generate_demo_data.py`` and the converters); ``NAME=DIR`` sets one.
``--make-data DIR`` first writes generated data at the datasets' real image
sizes (GTA5 1914x1052, Cityscapes 2048x1024, SYNTHIA 1280x760) in the
publishers' layouts and converts it. ``--smoke``: tiny generated data and
images, 0 workers, 2 samples (the figures mean nothing; ``make test``).

Resize mode (no CONFIG)::

    python tools/benchmark_data.py [--image PNG] [--label PNG]
        [--scale W H] [--repeat N] [--config CFG] [--smoke]

compares the two image-resize paths, the named options of the dataset base
config (``pil_resize``, the default of every MaxSquare/FADA pipeline: Pillow
bicubic, antialiased when shrinking, Pillow nearest for labels;
``cv2_resize``: cv2 bilinear without antialiasing, cv2 nearest), run
through the same ``Resize`` transform the pipelines build. Without
``--image`` a synthetic street-like image of GTA5's size (1914x1052) is
used. Prints the settings, the machine, the time per image of each path,
and how far their outputs differ (images: mean and max absolute difference
in grey levels, PSNR; labels: share of pixels with another class).
"""
import argparse
import atexit
import datetime
import functools
import importlib.util
import os.path as osp
import shutil
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..'))
sys.path.insert(0, REPO)
from mmseg_uda.utils import provenance  # noqa: E402

DEFAULT_CONFIG = osp.join(REPO, 'configs', '_base_', 'datasets',
                          'gta5_to_cityscapes.py')
GTA5_SIZE = (1914, 1052)  # (w, h)
PATHS = ('pil_resize', 'cv2_resize')


def synthetic_sample(size: Tuple[int, int],
                     seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """A street-like BGR image with sharp edges and texture, and a label.

    Args:
        size (tuple[int, int]): (w, h).
        seed (int): Random seed.

    Returns:
        tuple[np.ndarray, np.ndarray]: Image (h, w, 3) and label (h, w),
        both ``uint8``.
    """
    w, h = size
    rng = np.random.default_rng(seed)
    image = np.empty((h, w, 3), np.uint8)
    image[:] = np.linspace(60, 200, h, dtype=np.uint8)[:, None, None]
    label = np.zeros((h, w), np.uint8)
    for c in range(1, 40):
        x0, y0 = int(rng.integers(0, w - 8)), int(rng.integers(0, h - 8))
        x1 = x0 + int(rng.integers(4, w // 4))
        y1 = y0 + int(rng.integers(4, h // 4))
        image[y0:y1, x0:x1] = rng.integers(0, 256, 3)
        label[y0:y1, x0:x1] = c % 19
    noise = rng.normal(0, 8, image.shape)
    image = np.clip(image + noise, 0, 255).astype(np.uint8)
    return image, label


def load_sample(image_path: Optional[str], label_path: Optional[str],
                size: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """The image (BGR, as mmcv loads it) and label to resize.

    Raises:
        FileNotFoundError: If a given file cannot be read, naming it.
    """
    image, label = synthetic_sample(size)
    if image_path:
        image = cv2.imread(image_path, cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f'cannot read image {image_path!r}')
        label = cv2.resize(label, image.shape[1::-1],
                           interpolation=cv2.INTER_NEAREST)
    if label_path:
        label = cv2.imread(label_path, cv2.IMREAD_UNCHANGED)
        if label is None or label.ndim != 2:
            raise FileNotFoundError(
                f'cannot read a one-channel label {label_path!r}')
    return image, label


def build_resizes(config: str, scale: Tuple[int, int]) -> Dict[str, object]:
    """One ``Resize`` transform per named path of the dataset config."""
    # Imported here: MMSeg takes seconds to import, --help should not.
    from mmengine.config import Config
    from mmseg.registry import TRANSFORMS
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(config)
    missing = [name for name in PATHS if name not in cfg]
    if missing:
        raise KeyError(f'{config!r} defines no {missing}')
    return {
        name: TRANSFORMS.build(
            dict(type='Resize', scale=scale, keep_ratio=False, **cfg[name]))
        for name in PATHS
    }


def run_path(resize, image: np.ndarray, label: np.ndarray,
             repeat: int) -> Tuple[float, dict]:
    """Seconds per call (best of ``repeat``) and the last output."""
    best = float('inf')
    out = None
    for _ in range(repeat):
        results = dict(img=image, gt_seg_map=label, seg_fields=['gt_seg_map'],
                       img_shape=image.shape[:2], ori_shape=image.shape[:2])
        start = time.perf_counter()
        out = resize(results)
        best = min(best, time.perf_counter() - start)
    return best, out


def compare(a: dict, b: dict) -> Dict[str, float]:
    """How far two resize outputs differ."""
    diff = np.abs(a['img'].astype(np.float64) - b['img'].astype(np.float64))
    mse = float((diff**2).mean())
    return dict(
        mean_abs=float(diff.mean()),
        max_abs=float(diff.max()),
        psnr=float('inf') if mse == 0 else 10 * np.log10(255.0**2 / mse),
        label_changed=float((a['gt_seg_map'] != b['gt_seg_map']).mean()))


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Images/s of a config\'s training data pipeline with N '
        'workers against a PIL loader shaped like the released loops\' (and '
        'where the time goes); without CONFIG, the speed and pixel '
        'difference of the two resize paths.')
    parser.add_argument('config', nargs='?',
                        help='training config (pipeline mode); omit for the '
                        'resize-path comparison')
    pipe = parser.add_argument_group('pipeline mode')
    pipe.add_argument('--data-root', action='append', default=[],
                      metavar='DIR|NAME=DIR',
                      help='DIR: every dataset reads DIR/<name> (gta5, '
                      'cityscapes, synthia, nthu, mapillary); NAME=DIR: '
                      'that one only (repeatable)')
    pipe.add_argument('--make-data', metavar='DIR',
                      help='first write generated data at the real image '
                      'sizes under DIR (publishers\' layouts, converted) and '
                      'read it')
    pipe.add_argument('--num-images', type=int, default=None,
                      help='images per domain for --make-data (default 16)')
    pipe.add_argument('--workers', type=int, default=None,
                      help='dataloader workers of both loaders (default: '
                      'the config\'s num_workers; 0 with --smoke)')
    pipe.add_argument('--samples', type=int, default=None,
                      help='timed dataset indices per loader and round '
                      '(default 24; 2 with --smoke)')
    pipe.add_argument('--rounds', type=int, default=None,
                      help='alternating rounds of the two loaders; the best '
                      'round of each is reported (default 2; 1 with --smoke)')
    pipe.add_argument('--breakdown', type=int, default=None,
                      help='samples for the per-transform times (default 8; '
                      '1 with --smoke)')
    pipe.add_argument('--size-factor', type=float, default=None,
                      help='factor on the pipelines\' sizes (default 1; '
                      '0.125 with --smoke)')
    pipe.add_argument('--cfg-options', nargs='+', default=[],
                      metavar='KEY=VALUE',
                      help='override config keys (as tools/train.py)')
    resize = parser.add_argument_group('resize mode (no CONFIG)')
    resize.add_argument('--image', help='an image to resize (default: a '
                        'synthetic one of GTA5 size)')
    resize.add_argument('--label', help='its one-channel label PNG')
    resize.add_argument('--scale', type=int, nargs=2, default=(1280, 720),
                        metavar=('W', 'H'),
                        help='output size (default: 1280 720, GTA5 training)')
    resize.add_argument('--repeat', type=int, default=10,
                        help='timed calls per path (default: 10)')
    resize.add_argument('--config', dest='resize_config',
                        default=DEFAULT_CONFIG,
                        help='dataset base config defining pil_resize and '
                        'cv2_resize (default: gta5_to_cityscapes.py)')
    parser.add_argument('--smoke', action='store_true',
                        help='tiny and fast: a structure check (make test); '
                        'the figures mean nothing')
    return parser.parse_args(argv)


def resize_main(args: argparse.Namespace) -> int:
    """The resize-path comparison; returns the exit code."""
    if args.repeat < 1:
        print(f'error: --repeat must be >= 1, got {args.repeat}',
              file=sys.stderr)
        return 2
    size, scale, repeat = GTA5_SIZE, tuple(args.scale), args.repeat
    if args.smoke:
        size, scale, repeat = (96, 53), (64, 36), 2
    try:
        image, label = load_sample(args.image, args.label, size)
        resizes = build_resizes(args.resize_config, scale)
    except (FileNotFoundError, KeyError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    print(f'benchmark_data: resize {image.shape[1]}x{image.shape[0]} -> '
          f'{scale[0]}x{scale[1]}, best of {repeat}, image '
          f'{args.image or "synthetic"}, config {args.resize_config}')
    print(f'date {datetime.datetime.now().isoformat(timespec="seconds")}, '
          f'machine {provenance.machine_description()}')
    outputs = {}
    print(f'{"path":<12} {"ms / image":>10}  settings')
    for name, resize in resizes.items():
        seconds, outputs[name] = run_path(resize, image, label, repeat)
        print(f'{name:<12} {1000 * seconds:>10.2f}  '
              f'{resize.backend} {resize.interpolation}')
    diff = compare(outputs['pil_resize'], outputs['cv2_resize'])
    print(f'difference pil_resize vs cv2_resize: image mean |d| '
          f'{diff["mean_abs"]:.3f}, max |d| {diff["max_abs"]:.0f}, PSNR '
          f'{diff["psnr"]:.2f} dB; labels changed '
          f'{100 * diff["label_changed"]:.2f} % of pixels')
    return 0


# ------------------------------------------------------- pipeline mode --
# Dataset type -> folder under --data-root / --make-data (the layout of
# tools/generate_demo_data.py and tests/conftest.py).
DATA_DIRS = dict(GTA5Dataset='gta5', CityscapesUDADataset='cityscapes',
                 SynthiaDataset='synthia', NTHUDataset='nthu',
                 MapillaryDataset='mapillary')
GENERATED = ('GTA5Dataset', 'CityscapesUDADataset', 'SynthiaDataset')
REAL_SIZES = dict(SOURCE_SIZE=(1914, 1052), TARGET_SIZE=(2048, 1024),
                  SYNTHIA_SIZE=(1280, 760))  # (w, h) as published
SMOKE_DEFAULTS = dict(workers=0, samples=2, rounds=1, breakdown=1,
                      size_factor=0.125, num_images=2)


def _load_tool(path: str):
    """Import a script of tools/ by path (they are not a package)."""
    name = osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(f'_bench_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def domain_configs(dataset_cfg: dict) -> Dict[str, dict]:
    """The config of each domain's dataset: ``source``/``target`` of a
    ``UDADataset`` (or ``RareClassSampledUDADataset``), else the one dataset
    as ``train``.

    Raises:
        ValueError: For a dataset without a pipeline (a wrapper), naming it.
    """
    if 'source' in dataset_cfg and 'target' in dataset_cfg:
        domains = dict(source=dataset_cfg['source'],
                       target=dataset_cfg['target'])
    else:
        domains = dict(train=dataset_cfg)
    for name, cfg in domains.items():
        if 'pipeline' not in cfg:
            raise ValueError(f'train_dataloader.dataset ({name}): a '
                             f'{cfg.get("type")!r} without a pipeline is not '
                             'supported')
    return domains


def make_data(root: str, num: int, types: Sequence[str],
              real_size: bool) -> None:
    """Write generated data for ``types`` under ``root`` and convert it.

    Raises:
        ValueError: If a type cannot be generated, naming it.
    """
    unsupported = sorted(set(types) - set(GENERATED))
    if unsupported:
        raise ValueError(f'--make-data writes {", ".join(GENERATED)} only; '
                         f'the config also needs {unsupported}: use '
                         '--data-root')
    gen = _load_tool(osp.join(REPO, 'tools', 'generate_demo_data.py'))
    if real_size:
        for key, size in REAL_SIZES.items():
            setattr(gen, key, size)
    counts = dict(source=num if 'GTA5Dataset' in types else 0,
                  target=num if 'CityscapesUDADataset' in types else 0,
                  synthia=num if 'SynthiaDataset' in types else 0)
    assert gen.main([
        root, '--num-source', str(counts['source']), '--num-target',
        str(counts['target']), '--num-val', '1' if counts['target'] else '0',
        '--num-synthia', str(counts['synthia'])
    ]) == 0
    converters = osp.join(REPO, 'tools', 'dataset_converters')
    if counts['source']:
        # GTA5's official split file, all frames in `train` (MaxSquare's
        # configs read split='train').
        import scipy.io
        frames = np.arange(1, counts['source'] + 1, dtype=np.float64)
        scipy.io.savemat(
            osp.join(root, 'gta5', 'split.mat'),
            dict(trainIds=frames[:, None], valIds=np.zeros((0, 1)),
                 testIds=np.zeros((0, 1))))
    for key, name in (('source', 'gta5'), ('target', 'cityscapes'),
                      ('synthia', 'synthia')):
        if counts[key]:
            tool = _load_tool(osp.join(converters, f'{name}.py'))
            assert tool.main([osp.join(root, name), '--nproc', '1']) == 0


def data_roots(values: Sequence[str]) -> Dict[str, str]:
    """``--data-root`` values as dataset type -> folder.

    Raises:
        ValueError: For an unknown ``NAME=`` prefix, naming it.
    """
    roots: Dict[str, str] = {}
    by_name = {v: k for k, v in DATA_DIRS.items()}
    for value in values:
        name, sep, folder = value.partition('=')
        if not sep:
            roots.update(
                {t: osp.join(value, d) for t, d in DATA_DIRS.items()})
        elif name in by_name:
            roots[by_name[name]] = folder
        else:
            raise ValueError(f'--data-root {value!r}: unknown name {name!r} '
                             f'(one of {sorted(by_name)})')
    return roots


def scale_pipeline(pipeline: List[dict], factor: float) -> List[dict]:
    """The pipeline with every output size multiplied by ``factor``."""
    if factor == 1:
        return pipeline

    def times(size):
        return tuple(max(8, round(s * factor)) for s in size)

    out = []
    for step in pipeline:
        step = dict(step)
        for key in ('scale', 'crop_size'):
            if key in step and step['type'] in (
                    'Resize', 'ResizeWithDepth', 'RandomResize', 'RandomCrop',
                    'FitAndPad'):
                step[key] = times(step[key])
        out.append(step)
    return out


def _images(batch) -> int:
    """Images in a collated batch (each domain's inputs)."""
    if isinstance(batch, dict) and 'img' in batch:  # the reference's
        return batch['img'].shape[0]
    if isinstance(batch, dict) and 'inputs' in batch:
        inputs = batch['inputs']
        return len(inputs) if isinstance(inputs, (list, tuple)) else \
            inputs.shape[0]
    if isinstance(batch, dict):
        return sum(_images(v) for v in batch.values())
    return 0


def tensor_bytes(obj) -> int:
    """Bytes of every tensor in a batch (what crosses the process
    boundary, metadata aside)."""
    import torch
    from mmengine.structures import BaseDataElement
    if isinstance(obj, torch.Tensor):
        return obj.untyped_storage().nbytes()
    if isinstance(obj, BaseDataElement):
        return sum(tensor_bytes(v) for v in obj.values())
    if isinstance(obj, dict):
        return sum(tensor_bytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(tensor_bytes(v) for v in obj)
    return 0


# The reference: a loader shaped like the released loops' (PIL throughout).
# A step maps dict(img=PIL image, label=PIL image or None) in place.
def _pil_size(scale, image, keep_ratio: bool) -> Tuple[int, int]:
    w, h = image.size
    if not keep_ratio:
        return int(scale[0]), int(scale[1])
    ratio = min(max(scale) / max(w, h), min(scale) / min(w, h))
    return int(w * ratio + 0.5), int(h * ratio + 0.5)


def _resize(sample: dict, size: Tuple[int, int]) -> None:
    from PIL import Image
    sample['img'] = sample['img'].resize(size, Image.BICUBIC)
    if sample['label'] is not None:
        sample['label'] = sample['label'].resize(size, Image.NEAREST)


def reference_steps(pipeline: List[dict], mean: Sequence[float]
                    ) -> Tuple[List[Tuple[str, Callable]], List[str]]:
    """The reference's steps for one domain, from the config's pipeline,
    and the config steps it has no counterpart for.

    Each config augmentation is done as the released PIL loaders do
    (METHODS.md: MaxSquare's flip p = 0.5 and PIL Gaussian blur p = 0.5,
    radius ~ U(0, 1); FADA's colour jitter then resize); the final step
    makes the float32 mean-subtracted CHW image and the int64 label that
    loaders of the released code's era ship (METHODS.md is silent there).
    """
    import random

    import torch
    from PIL import Image, ImageFilter

    loads_label = any('LoadAnnotations' in t['type'] for t in pipeline)

    def decode(sample):
        sample['img'] = Image.open(sample['img_path']).convert('RGB')
        label = None
        if loads_label:
            label = Image.open(sample['seg_map_path'])
            label.load()
        sample['label'] = label

    steps = [('PIL decode', decode)]
    omitted = []
    for t in pipeline:
        kind = t['type']
        if kind in ('Resize', 'ResizeWithDepth'):
            scale, keep = t['scale'], t.get('keep_ratio', False)
            steps.append((f'PIL resize {scale[0]}x{scale[1]}',
                          lambda s, scale=scale, keep=keep: _resize(
                              s, _pil_size(scale, s['img'], keep))))
        elif kind == 'RandomResize':
            scale, low, high = t['scale'], *t.get('ratio_range', (1, 1))

            def random_resize(s, scale=scale, low=low, high=high,
                              keep=t.get('keep_ratio', True)):
                r = random.uniform(low, high)
                _resize(s, _pil_size((scale[0] * r, scale[1] * r), s['img'],
                                     keep))
            steps.append(('PIL random resize', random_resize))
        elif kind == 'RandomCrop':
            ch, cw = t['crop_size']

            def crop(s, ch=ch, cw=cw):
                w, h = s['img'].size
                x = random.randint(0, max(0, w - cw))
                y = random.randint(0, max(0, h - ch))
                box = (x, y, x + min(cw, w), y + min(ch, h))
                s['img'] = s['img'].crop(box)
                if s['label'] is not None:
                    s['label'] = s['label'].crop(box)
            steps.append(('PIL random crop', crop))
        elif kind == 'RandomFlip':
            def flip(s, prob=t.get('prob', 0.5)):
                if random.random() < prob:
                    s['img'] = s['img'].transpose(Image.FLIP_LEFT_RIGHT)
                    if s['label'] is not None:
                        s['label'] = s['label'].transpose(
                            Image.FLIP_LEFT_RIGHT)
            steps.append(('PIL random flip', flip))
        elif kind == 'RandomGaussianBlur':
            def blur(s, prob=t.get('prob', 0.5),
                     radius=t.get('max_radius', 1.0)):
                if random.random() < prob:
                    s['img'] = s['img'].filter(ImageFilter.GaussianBlur(
                        radius=random.uniform(0, radius)))
            steps.append(('PIL Gaussian blur', blur))
        elif kind == 'ColorJitter':
            steps.append(('PIL colour jitter', _pil_jitter(t)))
        elif kind == 'PackSegInputs' or kind.startswith(
                ('CheckedLoad', 'LoadImage', 'LoadAnnotations', 'Check')):
            continue  # decode and the tensor step below
        else:
            omitted.append(kind)
    mean_arr = np.asarray(mean, np.float32)

    def to_tensors(s):
        img = np.asarray(s['img'], np.float32) - mean_arr
        s['img'] = torch.from_numpy(img.transpose(2, 0, 1).copy())
        if s['label'] is not None:
            s['label'] = torch.from_numpy(np.asarray(s['label'], np.int64))
    steps.append(('to float32 / int64 tensors', to_tensors))
    return steps, omitted


def _pil_jitter(t: dict) -> Callable:
    """torchvision-style ColorJitter on PIL images (FADA's release)."""
    import random

    from PIL import ImageEnhance

    from mmseg_uda.datasets.transforms.color_jitter import adjust_hue
    enhancers = [(ImageEnhance.Brightness, t.get('brightness', 0)),
                 (ImageEnhance.Contrast, t.get('contrast', 0)),
                 (ImageEnhance.Color, t.get('saturation', 0))]
    hue = t.get('hue', 0)

    def jitter(s):
        ops = [e for e in enhancers if e[1] > 0] + ([None] if hue else [])
        random.shuffle(ops)
        for op in ops:
            if op is None:
                s['img'] = adjust_hue(s['img'], random.uniform(-hue, hue))
            else:
                cls, v = op
                s['img'] = cls(s['img']).enhance(
                    random.uniform(max(0, 1 - v), 1 + v))
    return jitter


class ReferenceDataset:
    """Index ``i``: each domain's ``i``-th file (modulo its length) through
    the reference steps; a dict keyed by domain, as ``UDADataset``."""

    def __init__(self, infos: Dict[str, List[dict]],
                 steps: Dict[str, List[Tuple[str, Callable]]]) -> None:
        self.infos = infos
        self.steps = steps

    def __len__(self) -> int:
        return max(len(v) for v in self.infos.values())

    def sample(self, domain: str, idx: int) -> dict:
        infos = self.infos[domain]
        s = dict(infos[idx % len(infos)])
        for _, step in self.steps[domain]:
            step(s)
        out = dict(img=s['img'])
        if s['label'] is not None:
            out['label'] = s['label']
        return out

    def __getitem__(self, idx: int) -> dict:
        return {d: self.sample(d, idx) for d in self.infos}


def project_breakdown(dataset, count: int) -> Tuple[Dict[str, float], float]:
    """Mean seconds per sample of each transform of ``dataset``'s pipeline
    (run one by one in this process) and of their sum."""
    sums: Dict[str, float] = {}
    dataset[0]  # untimed: first-call costs (imports, caches)
    for k in range(count):
        results = dataset.get_data_info(k % len(dataset))
        for t in dataset.pipeline.transforms:
            name = type(t).__name__
            if name in ('Resize', 'ResizeWithDepth'):
                name = f'{name} {t.backend} {t.interpolation}'
            start = time.perf_counter()
            results = t(results)
            sums[name] = sums.get(name, 0.0) + time.perf_counter() - start
    means = {k: v / count for k, v in sums.items()}
    return means, sum(means.values())


def reference_breakdown(ref: ReferenceDataset, domain: str,
                        count: int) -> Tuple[Dict[str, float], float]:
    """As :func:`project_breakdown` for the reference's steps."""
    sums: Dict[str, float] = {}
    infos = ref.infos[domain]
    ref.sample(domain, 0)  # untimed, as in project_breakdown
    for k in range(count):
        s = dict(infos[k % len(infos)])
        for name, step in ref.steps[domain]:
            start = time.perf_counter()
            step(s)
            sums[name] = sums.get(name, 0.0) + time.perf_counter() - start
    means = {k: v / count for k, v in sums.items()}
    return means, sum(means.values())


def time_loader(loader) -> Tuple[float, int, int]:
    """Seconds, images and bytes per batch after the first batch (worker
    start-up and the first batch are not timed)."""
    it = iter(loader)
    first = next(it)
    nbytes = tensor_bytes(first)
    images = 0
    start = time.perf_counter()
    for batch in it:
        images += _images(batch)
    return time.perf_counter() - start, images, nbytes


def pipeline_main(args: argparse.Namespace) -> int:
    """The pipeline benchmark; returns the exit code."""
    import torch
    from mmengine.config import Config, DictAction
    from mmengine.registry import FUNCTIONS
    from mmengine.utils.dl_utils import set_multi_processing
    from mmseg.registry import DATASETS
    from mmseg.utils import register_all_modules
    from torch.utils.data import DataLoader, default_collate

    import mmseg_uda  # noqa: F401
    register_all_modules(init_default_scope=True)
    opts = {k: getattr(args, k) for k in SMOKE_DEFAULTS}
    for key, value in SMOKE_DEFAULTS.items():
        if opts[key] is None and args.smoke:
            opts[key] = value
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        parser = argparse.ArgumentParser()
        parser.add_argument('--o', nargs='+', action=DictAction)
        cfg.merge_from_dict(parser.parse_args(['--o',
                                               *args.cfg_options]).o)
    loader_cfg = cfg.train_dataloader
    workers = opts['workers']
    workers = loader_cfg.get('num_workers', 0) if workers is None else workers
    samples = opts['samples'] or 24
    rounds = opts['rounds'] or 2
    breakdown = opts['breakdown'] or 8
    factor = opts['size_factor'] or 1.0
    num_images = opts['num_images'] or 16
    for name, value in (('--samples', samples), ('--rounds', rounds),
                        ('--breakdown', breakdown), ('--num-images',
                                                     num_images)):
        if value < 1:
            print(f'error: {name} must be >= 1, got {value}',
                  file=sys.stderr)
            return 2
    domains = domain_configs(loader_cfg.dataset)
    types = [d['type'] for d in domains.values()]
    try:
        roots = data_roots(args.data_root)
        make = args.make_data
        if args.smoke and not make and not roots:
            make = tempfile.mkdtemp(prefix='benchmark_data_')
            # removed however the run ends
            atexit.register(shutil.rmtree, make, True)
        if make:
            make_data(make, num_images, types, real_size=not args.smoke)
            roots.update(data_roots([make]))
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    for name, dcfg in domains.items():
        if dcfg['type'] in roots:
            dcfg['data_root'] = roots[dcfg['type']]
        dcfg['pipeline'] = scale_pipeline(dcfg['pipeline'], factor)
    set_multi_processing(**cfg.get('env_cfg', {}).get('mp_cfg', {}),
                         distributed=False)
    try:
        dataset = DATASETS.build(loader_cfg.dataset)
    except (FileNotFoundError, OSError, ValueError) as err:
        print(f'error: building train_dataloader.dataset: {err}',
              file=sys.stderr)
        return 2
    if hasattr(dataset, 'set_sample_seed'):
        # RareClassSampledUDADataset: the seed its sampler would hand over
        dataset.set_sample_seed(cfg.get('randomness', {}).get('seed') or 0)
    domain_sets = ({'source': dataset.source, 'target': dataset.target}
                   if 'source' in domains else {'train': dataset})
    mean = cfg.model.get('data_preprocessor', {}).get('mean', (0, 0, 0))
    infos, steps, omitted = {}, {}, {}
    for name, ds in domain_sets.items():
        infos[name] = [ds.get_data_info(i) for i in range(len(ds))]
        steps[name], omitted[name] = reference_steps(
            domains[name]['pipeline'], mean)
    reference = ReferenceDataset(infos, steps)
    collate_cfg = dict(loader_cfg.get('collate_fn',
                                      dict(type='pseudo_collate')))
    collate_name = collate_cfg.pop('type')
    collate = functools.partial(FUNCTIONS.get(collate_name), **collate_cfg)
    pin = bool(loader_cfg.get('pin_memory', False))
    pin_effective = pin and torch.cuda.is_available()
    batch_size = loader_cfg.get('batch_size', 1)
    indices = [i % len(dataset) for i in range((samples + 1) * batch_size)]
    loaders = dict(
        project=lambda: DataLoader(dataset, batch_size=batch_size,
                                   sampler=indices, num_workers=workers,
                                   collate_fn=collate,
                                   pin_memory=pin_effective),
        reference=lambda: DataLoader(reference, batch_size=batch_size,
                                     sampler=indices, num_workers=workers,
                                     collate_fn=default_collate,
                                     pin_memory=pin_effective))

    print(f'benchmark_data: {args.config}, commit {provenance.code_commit()}, '
          f'{datetime.datetime.now().isoformat(timespec="seconds")}')
    print(f'  machine: {provenance.machine_description()}')
    print(f'  settings: workers {workers}, {samples} timed batches of '
          f'{batch_size} after 1 untimed, best of {rounds} alternating '
          f'rounds, size factor {factor:g}, collate {collate_name}'
          f', pin_memory {pin} (effective {pin_effective}), indices in '
          'order (the config\'s sampler is not used)'
          + (' [SMOKE: tiny generated data, figures mean nothing]'
             if args.smoke else ''))
    for name, ds in domain_sets.items():
        sizes = [t for t in domains[name]['pipeline']
                 if t['type'] in ('Resize', 'ResizeWithDepth', 'RandomCrop')]
        size = (f', to {sizes[-1].get("scale", sizes[-1].get("crop_size"))}'
                if sizes else '')
        print(f'  {name}: {type(ds).__name__}, {len(ds)} files under '
              f'{domains[name].get("data_root")}{size}')
    best: Dict[str, Tuple[float, int]] = {}
    for _ in range(rounds):
        for name, make_loader in loaders.items():
            seconds, images, nbytes = time_loader(make_loader())
            rate = images / seconds if seconds > 0 else float('inf')
            if name not in best or rate > best[name][0]:
                best[name] = (rate, nbytes)
    print(f'  {"loader":<34s}{"images/s":>10s}{"MB / batch":>12s}')
    labels = dict(project='project (config pipeline)',
                  reference='reference (PIL, release-like)')
    for name, (rate, nbytes) in best.items():
        print(f'  {labels[name]:<34s}{rate:>10.2f}{nbytes / 2**20:>12.2f}')
    ratio = best['project'][0] / best['reference'][0]
    print(f'  ratio project / reference: {ratio:.2f}x images/s, '
          f'{best["project"][1] / best["reference"][1]:.2f}x bytes')
    print(f'  where the time goes (main process, mean over {breakdown} '
          'samples, ms per sample):')
    for name, ds in domain_sets.items():
        for who, (means, total) in (
                ('project', project_breakdown(ds, breakdown)),
                ('reference', reference_breakdown(reference, name,
                                                  breakdown))):
            print(f'    {name} {who}: {1000 * total:.2f} ms')
            for step, sec in means.items():
                share = 100 * sec / total if total > 0 else 0.0
                print(f'      {step:<38s}{1000 * sec:>9.2f}{share:>7.1f} %')
        if omitted[name]:
            print(f'    {name} reference omits: {", ".join(omitted[name])}')
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the benchmark; returns the exit code."""
    args = parse_args(argv)
    if args.config:
        return pipeline_main(args)
    return resize_main(args)


if __name__ == '__main__':
    sys.exit(main())
