"""Convert a released DAFormer checkpoint (MiT-B5 + DAFormerHead) to
mmseg_uda keys.

The release (mmseg 0.16) saves its UDA model: the student under
``model.*``, the EMA teacher under ``ema_model.*`` and, with the feature
distance, the frozen ImageNet model under ``imnet_model.*``; a plain
segmentor's file (source- or target-only runs) has ``backbone.*`` and
``decode_head.*`` directly. The backbone is SegFormer's MiT layout
(``patch_embed1.proj``, ``block1.0.attn.q`` / ``.kv`` / ``.proj`` / ``.sr``
/ ``.norm``, ``block1.0.mlp.fc1`` / ``.dwconv.dwconv`` / ``.fc2``,
``norm1``, ...), mapped to MMSeg's ``MixVisionTransformer`` by MMSeg's own
``mit2mmseg.py`` (q and kv concatenated into ``attn.attn.in_proj_*``, the
linear MLP layers as 1x1 convs); the head's names are kept (mmseg_uda's
``DAFormerHead`` uses the release's). The decoder variant is read from the
keys and must be the one asked for (``--variant``; a config of each is in
configs/daformer/). An HRDA / MIC(HRDA) file, a DeepLab-V2 or SegFormer-head
DAFormer-framework file or any unknown key is refused, naming the file and
the key. By default the student is converted and the teacher and ImageNet
model are dropped (listed in the report); ``--teacher`` converts the EMA
teacher instead (to evaluate it).

Example:
    python tools/model_converters/daformer_release.py \\
        gta2cs_daformer_mitb5/latest.pth checkpoints/daformer_gta2cs.pth
"""
import argparse
import importlib.util
import os.path as osp
import re
import sys
from collections import OrderedDict
from typing import Callable, Dict, Optional, Sequence, Tuple

from torch import Tensor

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from mmseg_uda.models.decode_heads.daformer_head import FUSIONS  # noqa: E402
from mmseg_uda.models.utils.checkpoint_converters import (  # noqa: E402
    ConversionSummary, converter_arg_parser, load_checkpoint_file,
    save_converted_checkpoint, unwrap_state_dict)
from mmseg_uda.utils import atomic_write  # noqa: E402

StateDict = Dict[str, Tensor]
#: What each top-level prefix of the release's UDA model holds.
NETWORKS = {'model.': 'student', 'ema_model.': 'teacher',
            'imnet_model.': 'ImageNet model'}
DROP_REASONS = {
    'teacher': 'the EMA teacher (--teacher converts it instead)',
    'student': 'the student (converted without --teacher)',
    'ImageNet model': 'the feature distance\'s frozen ImageNet model (the '
                      'config re-reads the ImageNet weights)',
}
MIT_KEY = re.compile(
    r'^(patch_embed[1-4]\.(proj|norm)'
    r'|block[1-4]\.\d+\.(norm[12]|attn\.(q|kv|proj|sr|norm)'
    r'|mlp\.(fc1|fc2|dwconv\.dwconv))'
    r'|norm[1-4])\.(weight|bias)$')
_BN = r'bn\.(weight|bias|running_mean|running_var|num_batches_tracked)'
_CONV_MODULE = rf'(conv\.weight|{_BN})'
_BRANCH = rf'({_CONV_MODULE}|(depthwise_conv|pointwise_conv)\.{_CONV_MODULE})'
_CONTEXT = rf'(aspp_modules\.\d+\.{_BRANCH}|bottleneck\.{_CONV_MODULE})'
HEAD_KEY = re.compile(
    r'^(conv_seg\.(weight|bias)'
    r'|embed_layers\.\d+\.(proj\.(weight|bias)|0\.(weight|bias)'
    rf'|1\.{_CONTEXT})'
    rf'|fuse_layer\.({_CONTEXT}|{_CONV_MODULE}))$')
#: Files of other variants, recognised to say what they are.
OTHER_VARIANTS = [
    (re.compile(r'^decode_head\.(scale_attention|head)\.'),
     'an HRDA (or MIC(HRDA)) checkpoint: HRDA is not implemented here '
     '(METHODS.md sec. 7.7)'),
    (re.compile(r'^decode_head\.(linear_c|linear_fuse|linear_pred)\.'),
     'a SegFormer-head checkpoint (DAFormer Table 1), not a DAFormerHead'),
    (re.compile(r'^backbone\.(stem|conv1|layer[1-4])\.'),
     'a ResNet-backbone checkpoint (e.g. DAFormer\'s DeepLab-V2), not '
     'MiT-B5'),
]
MIT_CONVERTER = osp.join('.mim', 'tools', 'model_converters', 'mit2mmseg.py')


def mmseg_mit_converter() -> Callable[[StateDict], StateDict]:
    """MMSeg's ``convert_mit`` (SegFormer MiT keys -> MMSeg's), from the
    ``mit2mmseg.py`` the mmsegmentation package ships."""
    import mmseg
    path = osp.join(osp.dirname(mmseg.__file__), MIT_CONVERTER)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'MMSeg\'s MiT converter is not at {path} (it ships with the '
            'mmsegmentation package as tools/model_converters/'
            'mit2mmseg.py; reinstall mmsegmentation 1.2.2 from its wheel)')
    spec = importlib.util.spec_from_file_location('mmseg_mit2mmseg', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.convert_mit


def split_networks(state_dict: StateDict,
                   source: str) -> Dict[str, StateDict]:
    """The state dict per network (``student``, ``teacher``, ``ImageNet
    model``), prefixes removed; a plain segmentor's file is the student."""
    if not any(k.startswith(tuple(NETWORKS)) for k in state_dict):
        return {'student': OrderedDict(state_dict)}
    networks: Dict[str, StateDict] = {}
    for key, value in state_dict.items():
        prefix = next((p for p in NETWORKS if key.startswith(p)), None)
        if prefix is None:
            raise KeyError(
                f'{source}: unknown key {key!r} (a released DAFormer UDA '
                f'checkpoint holds {", ".join(p + "*" for p in NETWORKS)})')
        networks.setdefault(NETWORKS[prefix],
                            OrderedDict())[key[len(prefix):]] = value
    return networks


def head_variant(head: StateDict, source: str) -> str:
    """The decoder fusion of a released DAFormerHead (:data:`FUSIONS`)."""
    if not any(k.startswith('fuse_layer.') for k in head):
        raise KeyError(f'{source}: no decode_head.fuse_layer.* key: not a '
                       'DAFormerHead checkpoint')
    if any(re.match(r'^embed_layers\.\d+\.1\.aspp_modules\.', k)
           for k in head):
        return 'sepaspp_bottleneck'
    if any(k.startswith('fuse_layer.aspp_modules.') for k in head):
        return 'sepaspp' if any('.depthwise_conv.' in k
                                for k in head) else 'aspp'
    return 'conv1'


def convert_daformer_release(
        state_dict: StateDict,
        source: str = '<state_dict>',
        variant: str = 'sepaspp',
        teacher: bool = False) -> Tuple[StateDict, ConversionSummary]:
    """Map a released DAFormer state dict to mmseg_uda keys.

    Args:
        state_dict (dict[str, Tensor]): The released state dict (without
            ``module.`` prefixes, see ``unwrap_state_dict``).
        source (str): File name for messages. Default: '<state_dict>'.
        variant (str): The expected decoder fusion, one of
            :data:`FUSIONS`. Default: 'sepaspp' (DAFormer).
        teacher (bool): Convert the EMA teacher (``ema_model.*``) instead
            of the student. Default: False.

    Returns:
        tuple[dict[str, Tensor], ConversionSummary]: ``backbone.*``
        (MMSeg's MiT) and ``decode_head.*`` (DAFormerHead), and the report.

    Raises:
        KeyError: An unknown key, or the wanted network absent (named).
        ValueError: A checkpoint of another variant (named).
    """
    if variant not in FUSIONS:
        raise ValueError(f'variant must be one of {list(FUSIONS)}, got '
                         f'{variant!r}')
    summary = ConversionSummary(source)
    wanted = 'teacher' if teacher else 'student'
    networks = split_networks(state_dict, source)
    if wanted not in networks:
        raise KeyError(f'{source}: no {wanted} in the file (keys '
                       f'{"ema_model.*" if teacher else "model.*"} missing)')
    for name, network in networks.items():
        if name != wanted:
            prefix = next(p for p, n in NETWORKS.items() if n == name)
            summary.dropped.append((f'{prefix}* ({len(network)} tensors)',
                                    DROP_REASONS[name]))
    backbone, head = OrderedDict(), OrderedDict()
    for key, value in networks[wanted].items():
        for pattern, what in OTHER_VARIANTS:
            if pattern.match(key):
                raise ValueError(f'{source}: key {key!r} shows {what}')
        if key.startswith('backbone.') and MIT_KEY.match(key[9:]):
            backbone[key[9:]] = value
        elif key.startswith('decode_head.') and HEAD_KEY.match(key[12:]):
            head[key[12:]] = value
        else:
            raise KeyError(
                f'{source}: unknown key {key!r} of the {wanted} (expected '
                'SegFormer-layout MiT keys backbone.patch_embed1-4.*, '
                'backbone.block1-4.*, backbone.norm1-4.* and DAFormerHead '
                'keys decode_head.embed_layers.*, decode_head.fuse_layer.*, '
                'decode_head.conv_seg.*)')
    if not backbone or not head:
        raise KeyError(f'{source}: the {wanted} lacks its '
                       f'{"backbone" if not backbone else "decode_head"}.* '
                       'keys')
    found = head_variant(head, source)
    if found != variant:
        raise ValueError(
            f'{source}: its decoder is the {found!r} variant (e.g. key '
            f'decode_head.{next(iter(k for k in head if "fuse" in k))}), '
            f'not {variant!r}: convert with --variant {found} and use the '
            'matching configs/daformer/ config')
    # '' for a plain segmentor's file
    prefix = next((p for p, n in NETWORKS.items() if n == wanted and any(
        k.startswith(p) for k in state_dict)), '')
    converted: StateDict = OrderedDict()
    # mmseg's converter passes unknown keys through: every key was checked
    for key, value in mmseg_mit_converter()(backbone).items():
        converted[f'backbone.{key}'] = value
        summary.converted.append((f'{prefix}backbone.* (mit2mmseg)',
                                  f'backbone.{key}'))
    for key, value in head.items():
        converted[f'decode_head.{key}'] = value
        summary.converted.append((f'{prefix}decode_head.{key}',
                                  f'decode_head.{key}'))
    num_classes = int(head['conv_seg.weight'].shape[0])
    stages = len({re.match(r'\D+(\d)', k)[1] for k in backbone})
    summary.notes.append(
        f'{wanted}: SegFormer-layout MiT ({stages} stages, {len(backbone)} '
        'tensors) through MMSeg\'s mit2mmseg; '
        f'DAFormerHead fusion={found!r}, {num_classes} classes')
    return converted, summary


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = converter_arg_parser(
        'Convert a released DAFormer (MiT-B5 + DAFormerHead) checkpoint '
        'into mmseg_uda keys')
    parser.add_argument(
        '--variant',
        choices=FUSIONS,
        default='sepaspp',
        help='the decoder fusion the file must have (default: sepaspp, '
        'DAFormer; the Table 7 ablations: aspp, conv1, sepaspp_bottleneck)')
    parser.add_argument(
        '--teacher',
        action='store_true',
        help='convert the EMA teacher (ema_model.*) instead of the student')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    source = osp.basename(args.src)
    # A converter killed while writing leaves its temporary file.
    atomic_write.remove_stale_temporaries(osp.dirname(osp.abspath(args.dst)))
    state_dict = unwrap_state_dict(
        load_checkpoint_file(args.src, unsafe=args.unsafe_load), source)
    converted, summary = convert_daformer_release(
        state_dict, source, variant=args.variant, teacher=args.teacher)
    save_converted_checkpoint(converted, summary.meta('daformer_release'),
                              args.dst)
    print(summary.format(verbose=args.verbose))
    print(f'Saved {args.dst}')


if __name__ == '__main__':
    main()
