"""Speed of the batched GMM density targets against a per-pixel loop.

The release evaluates the per-class mixture cell by cell on the CPU; the
project's :class:`ClassGMMDensity` evaluates a whole batch at once on the
tensors' device. Both run here on random GMMs (K components per class) and
random class / depth maps at the stride-8 grid of 1280x760 (161x96); the
loop is timed on ``--loop-cells`` cells (in ``--repeats`` chunks) and
scaled to the grid, and both results are compared on those cells. The
speed-up is that of the medians (per batched call, per chunk's cell), which
a shared machine's stalls disturb least; that of the means is printed too.

Example::

    python tools/benchmark_density.py --device cpu --batch 1
"""
import argparse
import datetime
import json
import math
import os.path as osp
import sys
import tempfile
import time
from typing import Optional, Sequence

import numpy as np
import torch

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..'))
from mmseg_uda.models.utils import ClassGMMDensity  # noqa: E402
from mmseg_uda.models.utils.class_gmm_density import GMM_FORMAT  # noqa: E402
from mmseg_uda.utils import provenance  # noqa: E402


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num-classes', type=int, default=16)
    parser.add_argument('--num-components', type=int, default=5)
    parser.add_argument('--grid-size', type=int, nargs=2, default=(161, 96))
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--loop-cells', type=int, default=2000)
    parser.add_argument('--threads', type=int, default=0,
                        help='torch CPU threads (0: torch\'s default)')
    return parser.parse_args(argv)


def random_gmm(num_classes, k, grid, rng):
    width, height = grid
    classes = []
    for _ in range(num_classes):
        w = rng.dirichlet(np.ones(k))
        means = np.stack([rng.uniform(0, width, k), rng.uniform(0, height, k),
                          rng.uniform(1, 200, k)], 1)
        var = np.stack([rng.uniform(10, 500, k), rng.uniform(10, 200, k),
                        rng.uniform(100, 5000, k)], 1)
        classes.append(dict(weights=w.tolist(), means=means.tolist(),
                            variances=var.tolist()))
    return classes


def per_pixel(classes, labels, depth, cells):
    """The release's form: one mixture evaluation per cell (NumPy)."""
    height, width = labels.shape
    out = []
    for index in cells:
        row, col = divmod(int(index), width)
        gmm = classes[labels[row, col]]
        v = np.array([col, row, depth[row, col]])
        mu, var = np.array(gmm['means']), np.array(gmm['variances'])
        dens = np.prod(np.exp(-(v - mu)**2 / (2 * var)) /
                       np.sqrt(2 * math.pi * var), axis=1)
        p = float(np.dot(gmm['weights'], dens))
        out.append(255 * (1 - math.exp(-1e6 * p)))
    return np.array(out)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    width, height = args.grid_size
    classes = random_gmm(args.num_classes, args.num_components,
                         args.grid_size, rng)
    with tempfile.TemporaryDirectory() as tmp:
        path = osp.join(tmp, 'gmm.json')
        with open(path, 'w') as f:
            json.dump(dict(format=GMM_FORMAT, num_classes=args.num_classes,
                           grid_size=[width, height],
                           num_components=args.num_components,
                           classes=classes), f)
        density = ClassGMMDensity(path, args.num_classes,
                                  args.num_components).to(args.device)
    labels = torch.randint(0, args.num_classes, (args.batch, height, width),
                           device=args.device)
    depth = torch.rand(args.batch, height, width, device=args.device) * 200
    sync = (torch.cuda.synchronize
            if str(args.device).startswith('cuda') else (lambda: None))
    density(labels, depth)  # warm-up
    sync()
    batched_times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        batched = density(labels, depth)
        sync()
        batched_times.append(time.perf_counter() - start)
    lab, dep = labels[0].cpu().numpy(), depth[0].cpu().numpy()
    cells = rng.choice(height * width, min(args.loop_cells, height * width),
                       replace=False)
    # The loop in as many chunks as the batched calls: the same statistic
    # (median per call) for both, robust to a shared machine's stalls.
    chunk_times, looped = [], []
    for chunk in np.array_split(cells, args.repeats):
        start = time.perf_counter()
        looped.append(per_pixel(classes, lab, dep, chunk))
        chunk_times.append(time.perf_counter() - start)
    sizes = [len(c) for c in looped]
    looped = np.concatenate(looped)
    per_batch = height * width * args.batch  # cells
    batched_s = float(np.median(batched_times))
    batched_mean = float(np.mean(batched_times))
    loop_s = float(np.median(np.divide(chunk_times, sizes))) * per_batch
    loop_mean = sum(chunk_times) / len(cells) * per_batch
    got = batched[0, 0].flatten().cpu().numpy()[cells]
    max_diff = float(np.abs(got - looped).max())
    now = datetime.datetime.now(datetime.timezone.utc)
    print(f'date: {now:%Y-%m-%d %H:%M} UTC, commit {provenance.code_commit()}')
    print(f'machine: {provenance.machine_description()}, device {args.device}')
    print(f'{args.batch} x {width}x{height} cells, {args.num_classes} '
          f'classes, K = {args.num_components}')
    print(f'batched: {batched_s * 1e3:.2f} ms per batch (median of '
          f'{args.repeats} calls; mean {batched_mean * 1e3:.2f})')
    print(f'per-pixel loop: {loop_s * 1e3:.1f} ms per batch (timed on '
          f'{len(cells)} cells in {args.repeats} chunks, median; mean '
          f'{loop_mean * 1e3:.1f})')
    print(f'speed-up: {loop_s / batched_s:.0f}x (of the means: '
          f'{loop_mean / batched_mean:.0f}x); max |difference| '
          f'{max_diff:.2e}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
