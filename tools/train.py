"""Train a segmentor (source-only, UDA or self-training) with MMEngine."""
import argparse
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..'))
import mmseg_uda  # noqa: E402,F401  (registers components, safe loading)
from mmseg_uda.utils.config_keys import warn_unread_config_keys  # noqa: E402
from mmseg_uda.utils.launch import (configure_resume, enable_amp,  # noqa
                                    init_cpu_distributed, set_local_rank,
                                    set_work_dir)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='resume from the latest loadable checkpoint in the work dir '
        '(whatever load_from says); without one, start from load_from')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision (bfloat16 where supported, else float16)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. train_cfg.max_iters=100')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    set_local_rank(args.local_rank)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    set_work_dir(cfg, args.config, args.work_dir)
    if args.amp:
        enable_amp(cfg)
    configure_resume(cfg, args.resume)
    init_cpu_distributed(args.launcher)
    runner = Runner.from_cfg(cfg)
    warn_unread_config_keys(cfg)
    runner.train()


if __name__ == '__main__':
    main()
