"""Key mapping from foreign ResNet / DeepLab-V2 checkpoints to mmseg_uda.

Two source layouts are supported:

* the legacy DeepLab-V2 ``Res_Deeplab`` layout (MaxSquare, AdaptSegNet and
  the caffe-converted "init" weights): backbone ``conv1``, ``bn1``,
  ``layer1..4`` and ASPP-sum classifiers ``layer5`` / ``layer6`` made of
  ``conv2d_list.{i}.{weight,bias}``;
* torchvision's ResNet (``conv1``, ``bn1``, ``layer1..4``, ``fc``).

The backbone names equal mmseg's ResNet names, so backbone keys only gain a
``backbone.`` prefix. Classifiers become ``decode_head.aspp_convs.*`` (the one
on layer4) and ``auxiliary_head.aspp_convs.*`` (the one on layer3); which
feature a classifier sits on is read from its weight shape, because
single-level files name their layer4 classifier ``layer5`` while multi-level
files use ``layer5`` for the layer3 one.
"""
import argparse
import os.path as osp
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import torch
from mmengine.runner.checkpoint import CheckpointLoader
from torch import Tensor

from ...utils.atomic_write import remove_stale_temporaries
from ...utils.checkpoint_integrity import (save_checkpoint_file,
                                           verify_integrity)
from ...utils.checkpoint_safety import UnsafeCheckpointError, safe_torch_load

StateDict = Dict[str, Tensor]

WRAPPER_KEYS = ('state_dict', 'model')
KEY_PREFIXES = ('module.', 'Scale.')
# Channels of layer3 / layer4 outputs of a ResNet-50/101/152, used when a
# file holds classifiers but no backbone to read them from.
DEFAULT_STAGE_CHANNELS = {3: 1024, 4: 2048}
HEAD_OF_STAGE = {4: 'decode_head', 3: 'auxiliary_head'}

_BN = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
BACKBONE_KEY = re.compile(
    rf'^(conv1\.weight|bn1\.{_BN}|layer[1-4]\.\d+\.'
    rf'(conv[1-3]\.weight|bn[1-3]\.{_BN}|downsample\.0\.weight|'
    rf'downsample\.1\.{_BN}))$')
LEGACY_CLASSIFIER_KEY = re.compile(
    r'^(layer[56])\.conv2d_list\.(\d+)\.(weight|bias)$')
TORCHVISION_FC_KEY = re.compile(r'^fc\.(weight|bias)$')


@dataclass
class ConversionSummary:
    """What a conversion did, for the user and for the checkpoint meta.

    Attributes:
        source (str): Name of the converted file.
        converted (list[tuple[str, str]]): (source key, new key) pairs.
        dropped (list[tuple[str, str]]): (source key, reason) pairs.
        added (list[str]): New keys with no source (BN step counters).
        notes (list[str]): Decisions worth reporting (classifier mapping).
    """
    source: str
    converted: List[Tuple[str, str]] = field(default_factory=list)
    dropped: List[Tuple[str, str]] = field(default_factory=list)
    added: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)

    def format(self, verbose: bool = False) -> str:
        """Return a human-readable report."""
        groups: Dict[str, int] = {}
        for _, new_key in self.converted:
            top = new_key.split('.', 1)[0]
            groups[top] = groups.get(top, 0) + 1
        lines = [
            f'Converted {len(self.converted)} keys from {self.source}: ' +
            ', '.join(f'{n} -> {k}.*' for k, n in groups.items())
        ]
        if verbose:
            lines += [f'  {old} -> {new}' for old, new in self.converted]
        lines.append(f'Dropped {len(self.dropped)} keys')
        lines += [f'  {key} ({reason})' for key, reason in self.dropped]
        if self.added:
            lines.append(f'Added {len(self.added)} BN num_batches_tracked '
                         'counters (set to 0) missing from the source')
        lines += [f'Note: {note}' for note in self.notes]
        return '\n'.join(lines)

    def meta(self, converter: str) -> dict:
        """Return a plain-type summary for the saved checkpoint's meta."""
        return dict(
            converter=converter,
            source=self.source,
            num_converted=len(self.converted),
            dropped=[f'{key} ({reason})' for key, reason in self.dropped],
            num_added=len(self.added),
            notes=list(self.notes))


def load_checkpoint_file(path: str, unsafe: bool = False) -> object:
    """Load a checkpoint file on the CPU.

    Args:
        path (str): Checkpoint path, or any source mmengine's
            ``CheckpointLoader`` knows (``http(s)://``, ``torchvision://``,
            ``open-mmlab://``, ...), which loads just as safely.
        unsafe (bool): Allow arbitrary pickled objects
            (``weights_only=False``); only for trusted local files. Default:
            False (tensors, builtins and the NumPy/mmengine types of
            :mod:`mmseg_uda.utils.checkpoint_safety`).

    Returns:
        object: Whatever the file holds.
    """
    if '://' in path:
        if unsafe:
            raise ValueError(f'{path}: --unsafe-load is for local files only')
        return CheckpointLoader.load_checkpoint(path, map_location='cpu')
    if unsafe:
        if not osp.isfile(path):
            raise FileNotFoundError(f'checkpoint file not found: {path}')
        checkpoint = torch.load(path, map_location='cpu', weights_only=False)
        verify_integrity(checkpoint, path)
        return checkpoint
    try:
        return safe_torch_load(path, map_location='cpu')
    except UnsafeCheckpointError as err:
        raise UnsafeCheckpointError(
            f'{err} Or, for a trusted file, rerun the converter with '
            '--unsafe-load.') from err


def unwrap_state_dict(checkpoint: object, source: str) -> StateDict:
    """Find the tensor dict inside a checkpoint and strip key prefixes.

    Args:
        checkpoint (object): Loaded file: a state dict, or a dict holding one
            under ``state_dict`` or ``model`` (possibly nested).
        source (str): File name used in error messages.

    Returns:
        dict[str, Tensor]: State dict whose keys have lost any leading
        ``module.`` (DataParallel) and ``Scale.`` (caffe-converted init)
        prefixes.
    """
    obj = checkpoint
    while isinstance(obj, dict) and not _is_tensor_dict(obj):
        wrapper = next((k for k in WRAPPER_KEYS if k in obj), None)
        if wrapper is None:
            bad = next(k for k, v in obj.items() if not torch.is_tensor(v))
            raise ValueError(
                f'{source}: entry {bad!r} is not a tensor and there is no '
                f'{" or ".join(map(repr, WRAPPER_KEYS))} entry holding a '
                f'state dict; top-level keys: {list(obj)[:10]}')
        obj = obj[wrapper]
    if not isinstance(obj, dict) or not obj:
        raise ValueError(f'{source}: no state dict found (got '
                         f'{type(obj).__name__})')
    state_dict: StateDict = OrderedDict()
    for key, value in obj.items():
        name = strip_prefixes(key)
        if name in state_dict:
            raise ValueError(f'{source}: keys {key!r} and another key both '
                             f'become {name!r} once prefixes are stripped')
        state_dict[name] = value
    return state_dict


def strip_prefixes(key: str) -> str:
    """Remove leading ``module.`` / ``Scale.`` prefixes, in any number."""
    stripped = True
    while stripped:
        stripped = False
        for prefix in KEY_PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix):]
                stripped = True
    return key


def convert_deeplabv2_legacy(
        state_dict: StateDict,
        source: str = '<state_dict>',
        drop_classifier: bool = False) -> Tuple[StateDict, ConversionSummary]:
    """Convert a legacy ``Res_Deeplab`` state dict to mmseg_uda keys.

    Args:
        state_dict (dict[str, Tensor]): Prefix-free legacy state dict (see
            :func:`unwrap_state_dict`).
        source (str): File name for messages. Default: '<state_dict>'.
        drop_classifier (bool): Drop ``layer5``/``layer6`` (e.g. the 21-class
            COCO classifier of the init weights) and keep the backbone only.
            Default: False.

    Returns:
        tuple[dict[str, Tensor], ConversionSummary]: New state dict
        (``backbone.*``, ``decode_head.*``, ``auxiliary_head.*``) and report.
    """
    summary = ConversionSummary(source)
    converted = _convert_backbone(state_dict, summary,
                                  {LEGACY_CLASSIFIER_KEY: None})
    classifiers = _group_classifiers(state_dict)
    if drop_classifier:
        for name, params in classifiers.items():
            summary.dropped += [(f'{name}.conv2d_list.{sub}',
                                 'classifier dropped on request')
                                for sub in params]
    else:
        _convert_classifiers(classifiers, converted, summary)
    return converted, summary


def convert_torchvision_resnet(
        state_dict: StateDict,
        source: str = '<state_dict>') -> Tuple[StateDict, ConversionSummary]:
    """Convert a torchvision ResNet state dict to mmseg_uda backbone keys.

    Args:
        state_dict (dict[str, Tensor]): Prefix-free torchvision state dict.
        source (str): File name for messages. Default: '<state_dict>'.

    Returns:
        tuple[dict[str, Tensor], ConversionSummary]: ``backbone.*`` state
        dict (the ImageNet ``fc`` is dropped) and report.
    """
    summary = ConversionSummary(source)
    converted = _convert_backbone(
        state_dict, summary,
        {TORCHVISION_FC_KEY: 'ImageNet classifier, unused by segmentation'})
    return converted, summary


def save_converted_checkpoint(state_dict: StateDict, meta: dict,
                              path: str) -> None:
    """Save ``{'state_dict', 'meta'}`` atomically (temp file + rename),
    with the integrity record of :mod:`mmseg_uda.utils.checkpoint_integrity`.

    The result loads with mmengine's ``load_from`` / ``load_checkpoint``
    and with ``torch.load(weights_only=True)``.

    Args:
        state_dict (dict[str, Tensor]): Converted state dict.
        meta (dict): Plain-type metadata.
        path (str): Destination path; its directory is created if needed.
    """
    save_checkpoint_file(dict(state_dict=state_dict, meta=meta), path)


CONVERTERS: Dict[str, Callable[..., Tuple[StateDict, ConversionSummary]]] = {
    'deeplabv2_legacy': convert_deeplabv2_legacy,
    'torchvision_resnet': convert_torchvision_resnet,
}


def convert_checkpoint_file(src: str,
                            dst: str,
                            converter: str,
                            unsafe: bool = False,
                            **kwargs) -> ConversionSummary:
    """Load ``src``, convert it with a named converter, save ``dst``.

    Args:
        src (str): Source checkpoint path.
        dst (str): Output checkpoint path.
        converter (str): A key of ``CONVERTERS``.
        unsafe (bool): See :func:`load_checkpoint_file`. Default: False.
        **kwargs: Extra options of the converter (``drop_classifier``).

    Returns:
        ConversionSummary: The report, also stored in the output's meta.
    """
    if converter not in CONVERTERS:
        raise KeyError(f'unknown converter {converter!r}; choose from '
                       f'{sorted(CONVERTERS)}')
    source = osp.basename(src)
    # A converter killed while writing leaves its temporary file; the rerun
    # writes the output anew.
    remove_stale_temporaries(osp.dirname(osp.abspath(dst)))
    state_dict = unwrap_state_dict(
        load_checkpoint_file(src, unsafe=unsafe), source)
    converted, summary = CONVERTERS[converter](
        state_dict, source=source, **kwargs)
    save_converted_checkpoint(converted, summary.meta(converter), dst)
    return summary


def converter_arg_parser(description: str) -> argparse.ArgumentParser:
    """Return a parser with the arguments every converter tool takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('src', help='source checkpoint path')
    parser.add_argument('dst', help='output checkpoint path')
    parser.add_argument(
        '--unsafe-load',
        action='store_true',
        help='load with torch.load(weights_only=False); trusted files only')
    parser.add_argument(
        '--verbose', action='store_true', help='list every key mapping')
    return parser


def _is_tensor_dict(obj: dict) -> bool:
    return bool(obj) and all(torch.is_tensor(v) for v in obj.values())


def _convert_backbone(
        state_dict: StateDict, summary: ConversionSummary,
        other_keys: Dict[re.Pattern, Optional[str]]) -> StateDict:
    """Prefix backbone keys; skip or drop ``other_keys``; reject the rest.

    ``other_keys`` maps a key pattern to a drop reason, or to None for keys
    another step handles.
    """
    converted: StateDict = OrderedDict()
    for key, value in state_dict.items():
        if BACKBONE_KEY.match(key):
            converted[f'backbone.{key}'] = value
            summary.converted.append((key, f'backbone.{key}'))
            continue
        pattern = next((p for p in other_keys if p.match(key)), None)
        if pattern is None:
            raise KeyError(
                f'{summary.source}: unknown key {key!r} (expected ResNet '
                'keys conv1, bn1, layer1..4.N.{conv1-3,bn1-3,downsample.0/1}'
                f'{_describe_other(other_keys)})')
        if other_keys[pattern] is not None:
            summary.dropped.append((key, other_keys[pattern]))
    _add_bn_counters(converted, summary)
    return converted


def _describe_other(other_keys: Dict[re.Pattern, Optional[str]]) -> str:
    if LEGACY_CLASSIFIER_KEY in other_keys:
        return ' or classifiers layer5/layer6.conv2d_list.I.{weight,bias}'
    return ' or fc.{weight,bias}'


def _add_bn_counters(converted: StateDict, summary: ConversionSummary) -> None:
    """Add ``num_batches_tracked`` to BN layers saved before it existed."""
    for key in list(converted):
        if not key.endswith('.running_mean'):
            continue
        counter = key[:-len('running_mean')] + 'num_batches_tracked'
        if counter not in converted:
            converted[counter] = torch.tensor(0, dtype=torch.long)
            summary.added.append(counter)


def _group_classifiers(state_dict: StateDict) -> Dict[str, StateDict]:
    """Collect ``layerK.conv2d_list.*`` tensors per classifier name."""
    classifiers: Dict[str, StateDict] = OrderedDict()
    for key, value in state_dict.items():
        match = LEGACY_CLASSIFIER_KEY.match(key)
        if match:
            name, index, param = match.groups()
            classifiers.setdefault(name,
                                   OrderedDict())[f'{index}.{param}'] = value
    return classifiers


def _stage_channels(converted: StateDict, stage: int) -> int:
    """Output channels of a ResNet stage, read from its conv3 weights."""
    pattern = re.compile(rf'^backbone\.layer{stage}\.\d+\.conv3\.weight$')
    for key, value in converted.items():
        if pattern.match(key):
            return int(value.shape[0])
    return DEFAULT_STAGE_CHANNELS[stage]


def _convert_classifiers(classifiers: Dict[str,
                                           StateDict], converted: StateDict,
                         summary: ConversionSummary) -> None:
    """Map each classifier to the head of the stage it reads from."""
    head_of_channels = {
        _stage_channels(converted, stage): head
        for stage, head in HEAD_OF_STAGE.items()
    }
    used: Dict[str, str] = {}
    for name, params in classifiers.items():
        in_channels, num_classes = _classifier_shape(name, params, summary)
        head = head_of_channels.get(in_channels)
        if head is None:
            raise ValueError(
                f'{summary.source}: classifier {name} takes {in_channels} '
                'input channels, matching neither layer3 nor layer4 '
                f'({sorted(head_of_channels)})')
        if head in used:
            raise ValueError(f'{summary.source}: classifiers {used[head]} '
                             f'and {name} both read the {in_channels}-channel '
                             'feature')
        used[head] = name
        for sub, value in params.items():
            new_key = f'{head}.aspp_convs.{sub}'
            converted[new_key] = value
            summary.converted.append((f'{name}.conv2d_list.{sub}', new_key))
        summary.notes.append(
            f'{name} ({len(params) // 2} branches, {num_classes} classes, '
            f'{in_channels} input channels) -> {head}')


def _classifier_shape(name: str, params: StateDict,
                      summary: ConversionSummary) -> Tuple[int, int]:
    """Check a classifier's branches agree; return (in, out) channels."""
    shapes = {
        tuple(v.shape)
        for k, v in params.items() if k.endswith('weight')
    }
    if len(shapes) != 1 or len(next(iter(shapes))) != 4:
        raise ValueError(f'{summary.source}: classifier {name} has branch '
                         f'weights of shapes {sorted(shapes)}; expected one '
                         '(classes, channels, 3, 3) shape')
    num_classes, in_channels = next(iter(shapes))[:2]
    indices = sorted({int(k.split('.')[0]) for k in params})
    for index in indices:
        for param in ('weight', 'bias'):
            if f'{index}.{param}' not in params:
                raise KeyError(f'{summary.source}: classifier {name} lacks '
                               f'conv2d_list.{index}.{param}')
    return in_channels, num_classes
