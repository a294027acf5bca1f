"""Convert a torchvision ResNet checkpoint to mmseg_uda backbone keys.

The ImageNet ``fc`` layer is dropped; old files without BN
``num_batches_tracked`` get zero counters.

Example:
    python tools/model_converters/torchvision_resnet.py \\
        resnet101-5d3b4d8f.pth pretrain/resnet101_torchvision.pth
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from mmseg_uda.models.utils.checkpoint_converters import (  # noqa: E402
    convert_checkpoint_file, converter_arg_parser)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = converter_arg_parser(
        'Convert a torchvision ResNet checkpoint into mmseg_uda backbone keys')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    summary = convert_checkpoint_file(
        args.src, args.dst, 'torchvision_resnet', unsafe=args.unsafe_load)
    print(summary.format(verbose=args.verbose))
    print(f'Saved {args.dst}')


if __name__ == '__main__':
    main()
