"""Print the demo's comparison table from the runs' test metrics and write
it, with the commit and the machine that produced it, to a Markdown file;
beside it, one picture of every run on the same val image.

Usage: python tools/demo_summary.py WORK_DIR RUN [RUN ...] [--control RUN]
[--configs DIR] [--command TEXT] [--out FILE] (FILE defaults to
WORK_DIR/summary.md).

Per run it reads WORK_DIR/RUN/test_metrics.json (tools/test.py
--save-metrics) and, where the run left them, its length (the checkpoint
that WORK_DIR/RUN/last_checkpoint names), its start (``load_from`` of
DIR/RUN.py, with ``--configs``) and its pictures
(WORK_DIR/RUN/pictures/side_by_side/, tools/test.py --show-dir). With
``--control`` the table has each run's mIoU minus the control run's. A new
demo row is one more run name in tools/demo.sh's RUNS; NOTES below only
adds a remark to its label.
"""
import argparse
import datetime
import json
import os
import os.path as osp
import re
import sys
from typing import Dict, List, Optional

import numpy as np

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..'))
from mmseg_uda.utils import provenance  # noqa: E402
from mmseg_uda.utils.atomic_write import atomic_write_bytes  # noqa: E402

KEYS = ('mIoU', 'mAcc', 'aAcc')
# Where tools/demo.sh has tools/test.py draw a run's pictures.
PICTURES = osp.join('pictures', 'side_by_side')
# Remarks on a run's label; any other run is labelled by its name alone.
NOTES: Dict[str, str] = {
    'source_only_more_iters': 'control: source training only',
    'dacs': 'batch 2+2 crops',
    'mic': 'dacs + masked image consistency',
    'daformer': 'tiny MiT + DAFormer head, DACS + RCS',
}
_LABEL_HEIGHT = 22  # pixels of the caption above each run's picture


def read_metrics(work_dir: str, run: str) -> Dict[str, float]:
    path = osp.join(work_dir, run, 'test_metrics.json')
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise SystemExit(f'{path} is missing: run {run} was not tested')
    except json.JSONDecodeError as error:
        raise SystemExit(f'{path} is not valid JSON: {error}')


def run_length(work_dir: str, run: str) -> str:
    """Iterations of the run's last checkpoint ('?' if it left none)."""
    try:
        with open(osp.join(work_dir, run, 'last_checkpoint')) as f:
            name = osp.basename(f.read().strip())
    except FileNotFoundError:
        return '?'
    match = re.fullmatch(r'iter_(\d+)\.pth', name)
    return match.group(1) if match else '?'


def run_start(work_dir: str, run: str, configs: Optional[str]) -> str:
    """What the run started from (``load_from`` of CONFIGS/RUN.py): 'random
    weights', the run of ``work_dir`` whose checkpoint it loaded, or the
    checkpoint's path; '?' without ``configs``."""
    if configs is None:
        return '?'
    from mmengine.config import Config
    path = osp.join(configs, f'{run}.py')
    try:
        load_from = Config.fromfile(
            path, import_custom_modules=False).get('load_from')
    except FileNotFoundError:
        raise SystemExit(f'{path} is missing: the config of run {run}')
    if not load_from:
        return 'random weights'
    folder = osp.dirname(osp.abspath(load_from))
    if osp.dirname(folder) == osp.abspath(work_dir):
        return osp.basename(folder)  # another run of this demo
    return load_from


def read_rows(work_dir: str, runs: List[str], control: Optional[str],
              configs: Optional[str]) -> List[List[str]]:
    metrics = {run: read_metrics(work_dir, run) for run in runs}
    reference = float(metrics[control]['mIoU']) if control else None
    rows = []
    for run in runs:
        label = f'{run} ({NOTES[run]})' if run in NOTES else run
        values = [float(metrics[run].get(key, float('nan'))) for key in KEYS]
        row = [
            label,
            run_length(work_dir, run),
            run_start(work_dir, run, configs)
        ]
        row.append(f'{values[0]:.2f}')
        if reference is not None:
            row.append('—' if run == control else
                       f'{values[0] - reference:+.2f}')
        rows += [row + [f'{v:.2f}' for v in values[1:]]]
    return rows


def markdown(rows: List[List[str]], control: Optional[str]) -> str:
    names = ['run', 'iterations', 'start', 'target mIoU']
    if control:
        names.append('gap to control')
    names += ['mAcc', 'aAcc']
    lines = ['| ' + ' | '.join(names) + ' |', '|' + '---|' * len(names)]
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    return '\n'.join(lines)


def compare_pictures(work_dir: str, runs: List[str], mious: List[str],
                     out: str) -> Optional[str]:
    """Stack the runs' ``image | prediction | label`` pictures of the first
    val image they all have, each under a caption with the run's name and
    its target mIoU (``mious``, in the order of ``runs``).

    Returns:
        str | None: The written PNG (next to ``out``, named after it and
        the image), or None when some run has no picture.
    """
    import cv2
    stems = None
    for run in runs:
        folder = osp.join(work_dir, run, PICTURES)
        names = set(os.listdir(folder)) if osp.isdir(folder) else set()
        stems = names if stems is None else stems & names
    if not stems:
        return None
    name = sorted(stems)[0]
    pictures = []
    for run, miou in zip(runs, mious):
        path = osp.join(work_dir, run, PICTURES, name)
        picture = cv2.imread(path, cv2.IMREAD_COLOR)
        if picture is None:
            raise SystemExit(f'cannot read the picture {path}')
        caption = np.full((_LABEL_HEIGHT, picture.shape[1], 3), 255, np.uint8)
        cv2.putText(caption, f'{run}: mIoU {miou}', (4, _LABEL_HEIGHT - 6),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        pictures += [caption, picture]
    width = max(p.shape[1] for p in pictures)
    pictures = [
        np.pad(p, ((0, 0), (0, width - p.shape[1]), (0, 0)),
               constant_values=255) for p in pictures
    ]
    ok, encoded = cv2.imencode('.png', np.concatenate(pictures, axis=0))
    if not ok:
        raise RuntimeError(f'could not encode the comparison of {name}')
    path = f'{osp.splitext(out)[0]}_{name}'
    atomic_write_bytes(encoded.tobytes(), path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('work_dir', help='e.g. work_dirs/demo/quick')
    parser.add_argument('runs', nargs='+', help='run names, in order')
    parser.add_argument(
        '--control',
        help='run whose mIoU the others are compared with (a column)')
    parser.add_argument(
        '--configs',
        help='folder of the runs\' configs (RUN.py), for the start column')
    parser.add_argument(
        '--command',
        default='make demo',
        help='the command that made the runs, for the header')
    parser.add_argument(
        '--out', help='Markdown file (default: WORK_DIR/summary.md)')
    args = parser.parse_args()
    if args.control and args.control not in args.runs:
        raise SystemExit(f'--control {args.control} is not one of the runs '
                         f'{args.runs}')
    rows = read_rows(args.work_dir, args.runs, args.control, args.configs)
    out = args.out or osp.join(args.work_dir, 'summary.md')
    now = datetime.datetime.now(datetime.timezone.utc)
    commit = provenance.code_commit()
    machine = provenance.machine_description()
    header = (f'Demo result (target = Cityscapes-like val split, labels at '
              f'full resolution), `{args.command}` at commit {commit}, '
              f'{now:%Y-%m-%d %H:%M} UTC, on: {machine}')
    text = f'{header}\n\n{markdown(rows, args.control)}\n'
    if args.control:
        text += (f'\ngap to control: target mIoU minus that of '
                 f'{args.control}\n')
    comparison = compare_pictures(args.work_dir, args.runs,
                                  [row[3] for row in rows], out)
    pictures = osp.join(args.work_dir, '<run>', PICTURES)
    text += (f'\npictures (image | prediction | label): {pictures}/; '
             + (f'every run on one image: {comparison}\n'
                if comparison else 'not every run has one\n'))
    atomic_write_bytes(text.encode(), out)
    print('\n' + text)
    print(f'(written to {out})')


if __name__ == '__main__':
    main()
