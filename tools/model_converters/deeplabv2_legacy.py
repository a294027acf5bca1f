"""Convert a legacy DeepLab-V2 ``Res_Deeplab`` checkpoint to mmseg_uda keys.

Handles MaxSquare/AdaptSegNet checkpoints (single- or multi-level; the
classifier on layer4 becomes ``decode_head``, the one on layer3
``auxiliary_head``) and the caffe-converted DeepLab-V2 init weights
(``Scale.`` prefix, no BN step counters, a 21-class COCO classifier).

Example:
    python tools/model_converters/deeplabv2_legacy.py \\
        MS_DeepLab_resnet_pretrained_COCO_init.pth \\
        pretrain/deeplabv2_r101_coco_init.pth --drop-classifier
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
        'Convert a legacy DeepLab-V2 (Res_Deeplab) checkpoint into '
        'mmseg_uda keys')
    parser.add_argument(
        '--drop-classifier',
        action='store_true',
        help='drop the layer5/layer6 classifiers, e.g. when their class '
        'count differs from the task (21-class COCO init weights)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    summary = convert_checkpoint_file(
        args.src,
        args.dst,
        'deeplabv2_legacy',
        unsafe=args.unsafe_load,
        drop_classifier=args.drop_classifier)
    print(summary.format(verbose=args.verbose))
    print(f'Saved {args.dst}')


if __name__ == '__main__':
    main()
