"""Print the demo's comparison table from the runs' test metrics and write
it, with the commit and the machine that produced it, to a Markdown file.

Usage: python tools/demo_summary.py WORK_DIR RUN [RUN ...] [--out FILE]
(FILE defaults to WORK_DIR/summary.md). A new demo row is one more run
name in tools/demo.sh's RUNS; DESCRIPTIONS below only adds its label.
"""
import argparse
import datetime
import json
import os.path as osp
import sys
from typing import Dict, List

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..'))
from mmseg_uda.utils import provenance  # noqa: E402
from mmseg_uda.utils.atomic_write import atomic_write_bytes  # noqa: E402

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..'))
KEYS = ('mIoU', 'mAcc', 'aAcc')
# Row labels of the known runs; any other run is labelled by its name.
DESCRIPTIONS: Dict[str, str] = {
    'source_only': 'source_only (600 it.)',
    'source_only_more_iters':
    'source_only_more_iters (+300 it., no target term)',
    'maxsquare': 'maxsquare (+300 it.)',
    'maxsquare_iw': 'maxsquare_iw (+300 it.)',
    'dacs': 'dacs (+300 it., batch 2+2 crops)',
    'mic': 'mic (+300 it., dacs + masked image consistency)',
}


def read_rows(work_dir: str, runs: List[str]) -> List[List[str]]:
    rows = []
    for run in runs:
        path = osp.join(work_dir, run, 'test_metrics.json')
        try:
            with open(path) as f:
                metrics = json.load(f)
        except FileNotFoundError:
            raise SystemExit(f'{path} is missing: run {run} was not tested')
        except json.JSONDecodeError as error:
            raise SystemExit(f'{path} is not valid JSON: {error}')
        rows.append([DESCRIPTIONS.get(run, run)] + [
            f'{float(metrics.get(key, float("nan"))):.2f}' for key in KEYS
        ])
    return rows


def markdown(rows: List[List[str]]) -> str:
    lines = ['| run | target mIoU | mAcc | aAcc |', '|---|---|---|---|']
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('work_dir', help='work_dirs/demo')
    parser.add_argument('runs', nargs='+', help='run names, in order')
    parser.add_argument(
        '--out', help='Markdown file (default: WORK_DIR/summary.md)')
    args = parser.parse_args()
    rows = read_rows(args.work_dir, args.runs)
    now = datetime.datetime.now(datetime.timezone.utc)
    commit = provenance.code_commit()
    machine = provenance.machine_description()
    header = (f'Demo result (target = Cityscapes-like val split, labels at '
              f'full resolution), `make demo` at commit {commit}, '
              f'{now:%Y-%m-%d %H:%M} UTC, on: {machine}')
    text = f'{header}\n\n{markdown(rows)}\n'
    out = args.out or osp.join(args.work_dir, 'summary.md')
    atomic_write_bytes(text.encode(), out)
    print('\n' + text)
    print(f'(written to {out})')


if __name__ == '__main__':
    main()
