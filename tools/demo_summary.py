"""Print the demo's comparison table from the runs' test metrics."""
import argparse
import json
import os.path as osp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('work_dir', help='work_dirs/demo')
    parser.add_argument('runs', nargs='+', help='run names, in order')
    args = parser.parse_args()
    print('\nDemo result (target = Cityscapes-like val split, '
          'labels at full resolution):')
    print(f'{"run":<26}{"mIoU":>8}{"mAcc":>8}{"aAcc":>8}')
    for run in args.runs:
        path = osp.join(args.work_dir, run, 'test_metrics.json')
        with open(path) as f:
            metrics = json.load(f)
        print(f'{run:<26}' + ''.join(
            f'{metrics.get(k, float("nan")):>8.2f}'
            for k in ('mIoU', 'mAcc', 'aAcc')))


if __name__ == '__main__':
    main()
