"""Convert a released CAG-UDA DeepLab-V3+ checkpoint to mmseg_uda keys.

The release's ``models/deeplab.py`` names (the pytorch-deeplab-xception
layout): ``backbone.*`` (torchvision-style ResNet, kept as is),
``aspp.aspp{1-4}.{atrous_conv,bn}``, ``aspp.global_avg_pool.{1,2}``,
``aspp.{conv1,bn1}``, ``decoder.{conv1,bn1}``,
``decoder.last_conv.{0,1,4,5,8}`` (8 = classifier). Keys may carry any
number of ``module.`` prefixes and the tensors may sit inside wrapper dicts
(``state_dict``, ``model_state``, ``ResNet101``, ...): the converter
descends into the one dict that holds ``backbone.conv1.weight``.
Output: ``backbone.*`` and ``decode_head.*`` of
configs/_base_/models/deeplabv3plus_r101.py (DeepLabV3PlusHead).

Example:
    python tools/model_converters/cag_deeplabv3plus.py \\
        from_gta5_to_cityscapes_on_deeplab101_best_model.pkl \\
        pretrain/cag_gta2cs_v3plus.pth --unsafe-load
"""
import argparse
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmseg_uda.models.utils.checkpoint_converters import (
    BACKBONE_KEY, ConversionSummary, converter_arg_parser,
    load_checkpoint_file, save_converted_checkpoint, strip_prefixes)

StateDict = Dict[str, Tensor]
_BN = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
# (released pattern, our replacement); BN groups keep their suffix.
HEAD_RULES = [
    (r'^aspp\.aspp([1-4])\.atrous_conv\.weight$',
     lambda m: f'aspp_convs.{int(m[1]) - 1}.conv.weight'),
    (rf'^aspp\.aspp([1-4])\.bn\.{_BN}$',
     lambda m: f'aspp_convs.{int(m[1]) - 1}.bn.{m[2]}'),
    (r'^aspp\.global_avg_pool\.1\.weight$',
     lambda m: 'image_pool.1.conv.weight'),
    (rf'^aspp\.global_avg_pool\.2\.{_BN}$',
     lambda m: f'image_pool.1.bn.{m[1]}'),
    (r'^aspp\.conv1\.weight$', lambda m: 'aspp_project.conv.weight'),
    (rf'^aspp\.bn1\.{_BN}$', lambda m: f'aspp_project.bn.{m[1]}'),
    (r'^decoder\.conv1\.weight$', lambda m: 'skip_conv.conv.weight'),
    (rf'^decoder\.bn1\.{_BN}$', lambda m: f'skip_conv.bn.{m[1]}'),
    (r'^decoder\.last_conv\.([04])\.weight$',
     lambda m: f'fuse_convs.{int(m[1]) // 2}.conv.weight'),
    (rf'^decoder\.last_conv\.([15])\.{_BN}$',
     lambda m: f'fuse_convs.{(int(m[1]) - 1) // 2}.bn.{m[2]}'),
    (r'^decoder\.last_conv\.8\.(weight|bias)$',
     lambda m: f'conv_seg.{m[1]}'),
]
HEAD_RULES = [(re.compile(p), f) for p, f in HEAD_RULES]
MARKER = 'backbone.conv1.weight'


def find_state_dict(obj: object, source: str) -> StateDict:
    """The (prefix-free) tensor dict holding the network, at any depth."""
    if isinstance(obj, dict):
        if obj and all(torch.is_tensor(v) for v in obj.values()):
            stripped = OrderedDict(
                (strip_prefixes(k), v) for k, v in obj.items())
            if MARKER in stripped:
                return stripped
        for value in obj.values():
            if isinstance(value, dict):
                try:
                    return find_state_dict(value, source)
                except KeyError:
                    pass
    raise KeyError(f'{source}: no state dict with {MARKER!r} (the released '
                   'DeepLab-V3+ layout) found')


def convert_cag_deeplabv3plus(
        state_dict: StateDict,
        source: str = '<state_dict>') -> Tuple[StateDict, ConversionSummary]:
    """Map released CAG-UDA DeepLab-V3+ keys to mmseg_uda keys.

    Args:
        state_dict (dict[str, Tensor]): Prefix-free released state dict.
        source (str): File name for messages.

    Returns:
        tuple[dict[str, Tensor], ConversionSummary]: New state dict and
        report.

    Raises:
        KeyError: A key of no known part (named).
    """
    summary = ConversionSummary(source)
    converted: StateDict = OrderedDict()
    for key, value in state_dict.items():
        if key.startswith('backbone.') and BACKBONE_KEY.match(
                key[len('backbone.'):]):
            new_key = key
        else:
            new_key = next((f'decode_head.{rule(m)}'
                            for pattern, rule in HEAD_RULES
                            for m in [pattern.match(key)] if m), None)
        if new_key is None:
            raise KeyError(
                f'{source}: unknown key {key!r} (expected backbone.*, '
                'aspp.aspp1-4/global_avg_pool/conv1/bn1 or decoder.conv1/'
                'bn1/last_conv.{0,1,4,5,8})')
        converted[new_key] = value
        summary.converted.append((key, new_key))
    for key in list(converted):
        if key.endswith('.running_mean'):
            counter = key[:-len('running_mean')] + 'num_batches_tracked'
            if counter not in converted:
                converted[counter] = torch.tensor(0, dtype=torch.long)
                summary.added.append(counter)
    return converted, summary


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = converter_arg_parser(
        'Convert a released CAG-UDA DeepLab-V3+ checkpoint into mmseg_uda '
        'keys')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    source = osp.basename(args.src)
    state_dict = find_state_dict(
        load_checkpoint_file(args.src, unsafe=args.unsafe_load), source)
    converted, summary = convert_cag_deeplabv3plus(state_dict, source)
    save_converted_checkpoint(converted,
                              summary.meta('cag_deeplabv3plus'), args.dst)
    print(summary.format(verbose=args.verbose))
    print(f'Saved {args.dst}')


if __name__ == '__main__':
    main()
