"""Evaluate a checkpoint on a config's test set (per-class IoU table)."""
import argparse
import json
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..'))
import mmseg_uda  # noqa: E402,F401  (registers components, safe loading)
from mmseg_uda.utils.atomic_write import atomic_write_bytes  # noqa: E402
from mmseg_uda.utils.config_keys import warn_unread_config_keys  # noqa: E402
from mmseg_uda.utils.launch import (init_cpu_distributed,  # noqa: E402
                                    set_local_rank, set_work_dir)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a '
                                     'segmentor checkpoint')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the metrics json goes')
    parser.add_argument(
        '--out', help='directory to save predictions for offline evaluation')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir', help='directory where painted predictions are saved')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='interval of --show (s)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        '--tta',
        action='store_true',
        help='test-time augmentation (horizontal-flip averaging of softmax '
        'outputs, see configs/_base_/tta_flip.py)')
    parser.add_argument(
        '--save-metrics',
        help='also write the returned metrics to this JSON file')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args()


def enable_visualization(cfg: Config, args: argparse.Namespace) -> None:
    """Turn on MMSeg's visualization hook for --show / --show-dir."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise SystemExit('--show/--show-dir need a "visualization" entry in '
                         'default_hooks (SegVisualizationHook)')
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir


def enable_tta(cfg: Config) -> None:
    """Replace the model by the TTA model and the pipeline by the TTA one."""
    if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
        raise SystemExit('--tta needs tta_model and tta_pipeline in the '
                         'config (inherit configs/_base_/tta_flip.py)')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model
    for evaluator in ([cfg.test_evaluator] if isinstance(
            cfg.test_evaluator, dict) else cfg.test_evaluator):
        evaluator['flip'] = True


def main() -> None:
    args = parse_args()
    set_local_rank(args.local_rank)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    set_work_dir(cfg, args.config, args.work_dir)
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.tta:
        enable_tta(cfg)
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True
    init_cpu_distributed(args.launcher)
    runner = Runner.from_cfg(cfg)
    warn_unread_config_keys(cfg)
    metrics = runner.test()
    if args.save_metrics and runner.rank == 0:
        atomic_write_bytes(
            json.dumps(metrics, indent=2, default=float).encode(),
            args.save_metrics)


if __name__ == '__main__':
    main()
