"""Fit the depth method's per-class Gaussian mixtures on the source domain.

For every class, K diagonal Gaussians over (column, row, d) of that class's
cells on the stride-8 grid (METHODS.md sec. 5): each SYNTHIA label (the
converted ``*_labelTrainIds{N}.png``) and depth map (``d = 65536 / (raw +
1)``) is read at the centres of the grid's cells, as Pillow's nearest resize
does and as the depth term reads the source's GT for its density target
(METHODS.md sec. 6.4), e.g. the 161x96 grid of 1280x760 inputs (81x41 for
640x320), and scikit-learn's ``GaussianMixture(covariance_type='diag')`` is
fitted on each class's cells, seeded. The frame is the training input:
SYNTHIA's own 1280x760 by default; ``--input-size`` first resizes label and
depth to it (Pillow nearest: what the depth configs' ``ResizeWithDepth`` does
to both).
The JSON output names the data, the settings and the point counts; a depth
config points its ``gmm_file`` at it. Reading the data shows a progress bar;
the fit of each class is logged. The file is written atomically.

Example::

    python tools/fit_depth_gmm.py data/synthia --num-classes 16 \\
        --grid-size 161 96 --out work_dirs/depth/gmm_synthia16_161x96.json
    python tools/fit_depth_gmm.py data/synthia --num-classes 7 \\
        --input-size 640 320 --grid-size 81 41 \\
        --out work_dirs/depth/gmm_synthia7_81x41.json
"""
import argparse
import json
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
from mmengine.utils import ProgressBar

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..'))
from mmseg_uda.datasets.class_tables import CLASS_SETTINGS  # noqa: E402
from mmseg_uda.datasets.synthia import SynthiaDataset  # noqa: E402
from mmseg_uda.datasets.transforms.load_depth import (  # noqa: E402
    read_synthia_depth, synthia_depth_from_raw)
from mmseg_uda.datasets.transforms.resize_with_depth import \
    resize_map_nearest  # noqa: E402
from mmseg_uda.models.utils.cell_centres import \
    cell_centre_rows_cols  # noqa: E402
from mmseg_uda.models.utils.class_gmm_density import (  # noqa: E402
    GMM_FEATURES, GMM_FORMAT)
from mmseg_uda.utils.atomic_write import atomic_write_bytes  # noqa: E402

IGNORE_INDEX = 255


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Fit per-class GMMs over (column, row, depth) on '
        'SYNTHIA (the depth method\'s density prior).')
    parser.add_argument('data_root', help='converted SYNTHIA data root')
    parser.add_argument('--num-classes', type=int, default=16,
                        choices=(16, 7, 19))
    parser.add_argument('--grid-size', type=int, nargs=2, default=(161, 96),
                        metavar=('W', 'H'),
                        help='stride-8 grid of the training input '
                        '(161 96 for 1280x760, 81 41 for 640x320)')
    parser.add_argument('--input-size', type=int, nargs=2, default=None,
                        metavar=('W', 'H'),
                        help='training input size the labels and depth maps '
                        'are first resized to (nearest, as the depth '
                        'configs\' Resize); default: their own size '
                        '(SYNTHIA: 1280x760)')
    parser.add_argument('--num-components', type=int, default=5)
    parser.add_argument('--seed', type=int, default=1234)
    parser.add_argument('--max-points-per-class', type=int, default=2000000,
                        help='fit on a seeded random subset of at most this '
                        'many cells per class (0: all)')
    parser.add_argument('--max-iter', type=int, default=200,
                        help='EM iterations of GaussianMixture')
    parser.add_argument('--out', required=True, help='output JSON file')
    return parser.parse_args(argv)


def grid_points(label: np.ndarray,
                depth: np.ndarray,
                grid_size: Sequence[int],
                num_classes: int,
                input_size: Optional[Sequence[int]] = None
                ) -> Dict[int, np.ndarray]:
    """(column, row, d) of each class's cells on the grid.

    Label and depth are read at the same points, the cells' centres
    (Pillow's nearest resize), as the depth term reads the source's GT.

    Args:
        label (np.ndarray): Train ids, (H, W), uint8.
        depth (np.ndarray): d, (H, W), float32.
        grid_size (Sequence[int]): (W, H) of the grid.
        num_classes (int): Classes to collect (ids >= it are ignored).
        input_size (Sequence[int], optional): (W, H) of the training input
            both are first resized to (Pillow nearest, as the configs'
            ``ResizeWithDepth``); None: as they are.

    Returns:
        dict[int, np.ndarray]: Class -> (n, 3) float64 points.
    """
    if input_size is not None:
        size = tuple(int(s) for s in input_size)
        label = resize_map_nearest(label, size, 'pillow')
        depth = resize_map_nearest(depth.astype(np.float32), size, 'pillow')
    centre_rows, centre_cols = cell_centre_rows_cols(
        label.shape, (grid_size[1], grid_size[0]))
    label = label[np.ix_(centre_rows, centre_cols)]
    depth = depth[np.ix_(centre_rows, centre_cols)]
    rows, cols = np.indices(label.shape)
    points = {}
    for c in np.unique(label):
        if c >= num_classes:
            continue
        mask = label == c
        points[int(c)] = np.stack([cols[mask], rows[mask], depth[mask]],
                                  axis=1).astype(np.float64)
    return points


def collect_points(data_root: str,
                   num_classes: int,
                   grid_size: Sequence[int],
                   input_size: Optional[Sequence[int]] = None):
    """Read every labelled image with its depth map (progress bar).

    Returns:
        tuple: (class -> list of (n, 3) point arrays, number of images).
    """
    dataset = SynthiaDataset(
        data_root=data_root, num_classes=num_classes, with_depth=True,
        pipeline=[], lazy_init=False)
    points: Dict[int, List[np.ndarray]] = {c: [] for c in range(num_classes)}
    bar = ProgressBar(len(dataset))
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        label = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
        if label is None or label.ndim != 2 or label.dtype != np.uint8:
            raise ValueError(
                f'{info["seg_map_path"]}: expected an 8-bit train-id label '
                f'(tools/dataset_converters/synthia.py output), got '
                f'{None if label is None else (label.dtype, label.shape)}')
        depth = synthia_depth_from_raw(
            read_synthia_depth(info['depth_map_path']))
        if depth.shape != label.shape:
            raise ValueError(
                f'depth map {info["depth_map_path"]!r} has (H, W) = '
                f'{depth.shape}, its label {info["seg_map_path"]!r} '
                f'{label.shape}')
        for c, pts in grid_points(label, depth, grid_size, num_classes,
                                  input_size).items():
            points[c].append(pts)
        bar.update()
    sys.stdout.write('\n')
    return points, len(dataset)


def fit_class(points: np.ndarray, num_components: int, seed: int,
              max_iter: int) -> dict:
    """One class's diagonal GMM (scikit-learn), as lists."""
    from sklearn.mixture import GaussianMixture
    gmm = GaussianMixture(
        n_components=num_components,
        covariance_type='diag',
        random_state=seed,
        max_iter=max_iter)
    gmm.fit(points)
    return dict(
        weights=gmm.weights_.tolist(),
        means=gmm.means_.tolist(),
        variances=gmm.covariances_.tolist(),
        converged=bool(gmm.converged_))


def empty_class(num_components: int) -> dict:
    """A class too rare to fit: zero weights, i.e. density 0 everywhere."""
    return dict(
        weights=[0.0] * num_components,
        means=[[0.0] * len(GMM_FEATURES)] * num_components,
        variances=[[1.0] * len(GMM_FEATURES)] * num_components,
        converged=False)


def fit_all(points: Dict[int, List[np.ndarray]], args) -> List[dict]:
    names = CLASS_SETTINGS[args.num_classes].classes
    rng = np.random.default_rng(args.seed)
    classes = []
    for c in range(args.num_classes):
        pts = (np.concatenate(points[c]) if points[c] else np.zeros((0, 3)))
        total = len(pts)
        if args.max_points_per_class and total > args.max_points_per_class:
            pts = pts[rng.choice(total, args.max_points_per_class,
                                 replace=False)]
        start = time.time()
        if len(pts) < args.num_components:
            print(f'class {c} ({names[c]}): {total} cells, fewer than '
                  f'{args.num_components}: density 0 (not fitted)')
            fitted = empty_class(args.num_components)
        else:
            fitted = fit_class(pts, args.num_components, args.seed,
                               args.max_iter)
            print(f'class {c} ({names[c]}): fitted on {len(pts)} of {total} '
                  f'cells in {time.time() - start:.1f}s, converged '
                  f'{fitted["converged"]}')
        classes.append(dict(name=names[c], num_points=int(total),
                            num_fitted=int(len(pts)), **fitted))
    return classes


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    print(f'fit_depth_gmm: {args.data_root}, {args.num_classes} classes, '
          f'grid {args.grid_size[0]}x{args.grid_size[1]} (W x H), K = '
          f'{args.num_components}, seed {args.seed}, at most '
          f'{args.max_points_per_class or "all"} cells per class')
    points, num_images = collect_points(args.data_root, args.num_classes,
                                        args.grid_size, args.input_size)
    classes = fit_all(points, args)
    result = dict(
        format=GMM_FORMAT,
        num_classes=args.num_classes,
        grid_size=list(args.grid_size),
        num_components=args.num_components,
        features=list(GMM_FEATURES),
        data=dict(
            source='SYNTHIA RAND-CITYSCAPES',
            data_root=osp.abspath(args.data_root),
            label_setting=f'{args.num_classes} classes',
            depth='65536 / (raw + 1)',
            sampling=('label and depth at the cell centres (Pillow nearest) '
                      'of the ' + ('file\'s own frame' if args.input_size is
                                   None else '{}x{} frame (Pillow nearest)'
                                   .format(*args.input_size))),
            num_images=num_images),
        settings=dict(
            library='sklearn.mixture.GaussianMixture',
            covariance_type='diag',
            seed=args.seed,
            max_iter=args.max_iter,
            max_points_per_class=args.max_points_per_class,
            input_size=(None if args.input_size is None else list(
                args.input_size))),
        classes=classes)
    atomic_write_bytes(json.dumps(result, indent=1).encode(), args.out)
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
