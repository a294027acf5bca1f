"""Evaluate a checkpoint on a config's test set (per-class IoU table)."""
import argparse
import json
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..'))
import mmseg_uda  # noqa: E402,F401  (registers components, safe loading)
from mmseg_uda.evaluation import tta_pipeline_from_test_pipeline  # noqa: E402
from mmseg_uda.evaluation.prediction_export import SUFFIXES  # noqa: E402
from mmseg_uda.utils.atomic_write import atomic_write_bytes  # noqa: E402
from mmseg_uda.utils.config_keys import warn_unread_config_keys  # noqa: E402
from mmseg_uda.utils.launch import (check_checkpoint_arg,  # noqa: E402
                                    init_cpu_distributed, set_local_rank,
                                    set_work_dir)
from mmseg_uda.utils.weight_matching import \
    require_complete_network  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a '
                                     'segmentor checkpoint')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the metrics json goes')
    parser.add_argument(
        '--out', help='directory to save predictions for offline evaluation '
        '(one PNG per image, format named in the file names and in '
        'prediction_format.json)')
    parser.add_argument(
        '--out-format',
        choices=sorted(SUFFIXES),
        default='train_ids',
        help='values of the --out PNGs: train_ids (<stem>_predTrainIds.png, '
        'class indices of the config) or cityscapes_label_ids '
        '(<stem>_predLabelIds.png, for cityscapesscripts and the Cityscapes '
        'benchmark server)')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted predictions are saved: MMSeg\'s '
        'overlays under <dir>/vis_data/vis_image/, '
        '<dir>/side_by_side/<stem>.png (image | prediction | label) and '
        '<dir>/per_class_iou.png')
    parser.add_argument(
        '--show-interval',
        type=int,
        default=1,
        help='paint every N-th test batch (default 1: every image)')
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
    if args.show_interval < 1:
        raise SystemExit(f'--show-interval must be >= 1, got '
                         f'{args.show_interval}')
    hook['draw'] = True
    # MMSeg's hook paints every 50th batch by default: a small evaluation
    # set would get no picture at all.
    hook['interval'] = args.show_interval
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(
                type='SideBySideVisualizationHook',
                out_dir=args.show_dir,
                interval=args.show_interval)
        ]


def _evaluators(cfg: Config) -> list:
    return ([cfg.test_evaluator]
            if isinstance(cfg.test_evaluator, dict) else cfg.test_evaluator)


def enable_tta(cfg: Config) -> None:
    """Replace the model by the TTA model and the test pipeline by its flip
    (and multi-scale) version, at the test pipeline's own scale and with
    its own label handling."""
    if 'tta_model' not in cfg:
        raise SystemExit('--tta needs tta_model in the config (inherit '
                         'configs/_base_/tta_flip.py)')
    dataset = cfg.test_dataloader.dataset
    try:
        dataset.pipeline = tta_pipeline_from_test_pipeline(
            dataset.pipeline, cfg.get('tta_img_ratios', [1.0]))
    except ValueError as error:
        raise SystemExit(f'{error} (test_dataloader.dataset.pipeline)')
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model
    for evaluator in _evaluators(cfg):
        # Declared, and checked on every sample by UDAIoUMetric.
        evaluator['flip'] = True


def main() -> None:
    args = parse_args()
    set_local_rank(args.local_rank)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    set_work_dir(cfg, args.config, args.work_dir)
    check_checkpoint_arg(args.checkpoint)
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.tta:
        enable_tta(cfg)
    if args.out is not None:
        for evaluator in _evaluators(cfg):
            evaluator['output_dir'] = args.out
            evaluator['output_format'] = args.out_format
    # The convention line reports the loaded checkpoint's iteration.
    cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
        dict(type='CheckpointInfoHook')
    ]
    init_cpu_distributed(args.launcher)
    runner = Runner.from_cfg(cfg)
    warn_unread_config_keys(cfg)
    # A network part left at its random initialisation would still score.
    with require_complete_network('evaluation'):
        metrics = runner.test()
    if args.save_metrics and runner.rank == 0:
        atomic_write_bytes(
            json.dumps(metrics, indent=2, default=float).encode(),
            args.save_metrics)


if __name__ == '__main__':
    main()
