"""Write hard pseudo-labels for the target training set of a UDA config.

The second stage of FADA (self-distillation, METHODS.md section 3) and of
other self-training workflows: the adapted model predicts every image of
the config's *target training set* (``train_dataloader.dataset.target``)
at the config's test input size (its test pipeline without label
loading), the head's logits are upsampled bilinearly, in one step, to the
image's full resolution and their argmax (no threshold) is saved as a uint8
PNG of class indices (train ids). (MMSeg's ``predict`` upsamples twice, to
the input size and then to the original size; FADA upsamples once.) The
output mirrors the image folder::

    <img_dir>/<city>/<stem>_leftImg8bit.png
        -> DIR/<city>/<stem>_pseudoTrainIds.png

so a dataset reads them with ``data_prefix=dict(img_path=<img_dir>,
seg_map_path=DIR)`` and ``seg_map_suffix='_pseudoTrainIds.png'`` (see
configs/fada/gta2cs_self_distill.py). Files are written atomically;
existing ones are skipped, so an interrupted (even killed) run resumes where
it stopped. ``DIR/pseudo_labels.json`` records the config and checkpoint
used; it is written only once the checkpoint has loaded (safely: see
mmseg_uda/utils/checkpoint_safety.py), so a refused checkpoint never claims
the folder.

Example::

    python tools/generate_pseudo_labels.py configs/fada/gta2cs.py \\
        work_dirs/fada/gta2cs/iter_40000.pth \\
        --out data/cityscapes/pseudo_labels/fada_gta2cs

Spatial-prior refinement (the depth method, METHODS.md sec. 5): when the
config has ``pseudo_label_refinement = dict(confidence=0.9,
thresholds=..., connectivity=8)`` (configs/depth/*), the softmax is taken
at the *input* size, pixels with ``max p < confidence`` become ignore (255),
then every 8-connected same-label region smaller than its class's threshold
(pixels at the input size; ``thresholds`` names released values, e.g.
``'synthia2cs-16'``, lists them, or is ``'from-stats'`` with
``class_stats=<source class_stats.json>`` for ``50 + 4950 (n_c - n_min) /
(n_max - n_min)`` on the source pixel shares) becomes ignore (connected
components by ``scipy.ndimage.label``). The refined label is written at the
input size, as refined (as the release writes it; a fitted-and-padded
Vistas input gives the whole padded frame, the padding's prediction
included, or ignore there with ``ignore_padding=True`` in
``pseudo_label_refinement``), and the self-training configs read it as
written: no round trip through the image's full resolution.
``--no-refinement`` writes the plain argmax at full resolution instead.
"""
import argparse
import copy
import json
import os.path as osp
import sys
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_checkpoint
from mmengine.utils import ProgressBar
from mmseg.registry import DATASETS, MODELS
from torch import Tensor
from torch.utils.data import DataLoader, Subset

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..'))
import mmseg_uda  # noqa: E402,F401  (registers components, safe loading)
from mmseg_uda.datasets.label_conversion import write_label_atomic  # noqa
from mmseg_uda.models.losses.class_weighted_cross_entropy import \
    class_pixel_counts  # noqa: E402
from mmseg_uda.models.utils.spatial_prior import (  # noqa: E402
    RELEASED_THRESHOLDS, refine_pseudo_label, thresholds_from_shares)
from mmseg_uda.utils.atomic_write import (atomic_write_bytes,  # noqa: E402
                                          remove_stale_temporaries)
from mmseg_uda.utils.launch import check_checkpoint_arg  # noqa: E402

PSEUDO_LABEL_SUFFIX = '_pseudoTrainIds.png'
META_FILE = 'pseudo_labels.json'
#: Test-pipeline steps that need ground truth; dropped for unlabelled data.
LABEL_TRANSFORMS = ('LoadAnnotations', 'CheckedLoadAnnotations',
                    'CheckSegMapSize', 'LabelsAtInferenceSize')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write argmax pseudo-labels for the target training set '
        'of a UDA config')
    parser.add_argument('config', help='the adaptation config')
    parser.add_argument('checkpoint', help='the adapted model')
    parser.add_argument(
        '--out', required=True, help='output folder (mirrors the images)')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='device for inference (default: cuda if available)')
    parser.add_argument(
        '--num-workers', type=int, default=2, help='data loading workers')
    parser.add_argument(
        '--no-refinement',
        action='store_true',
        help='ignore the config\'s pseudo_label_refinement (plain argmax)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings')
    return parser.parse_args(argv)


def inference_pipeline(test_pipeline: List[dict]) -> List[dict]:
    """The test pipeline without the steps that read labels.

    Args:
        test_pipeline (list[dict]): ``test_dataloader.dataset.pipeline``.

    Returns:
        list[dict]: The same steps (test input size included) minus
        :data:`LABEL_TRANSFORMS`.
    """
    return [
        copy.deepcopy(t) for t in test_pipeline
        if t['type'] not in LABEL_TRANSFORMS
    ]


def target_dataset_cfg(cfg: Config, config_path: str) -> ConfigDict:
    """The config's target training set, with the inference pipeline.

    Raises:
        SystemExit: If the training set is not a two-domain
            ``UDADataset``.
    """
    train = cfg.train_dataloader.dataset
    if train.get('type') != 'UDADataset' or 'target' not in train:
        raise SystemExit(
            f'{config_path}: train_dataloader.dataset is '
            f'{train.get("type")!r}; pseudo-labels are made for the target '
            'of a UDADataset (use the adaptation config)')
    target = copy.deepcopy(train.target)
    target.pipeline = inference_pipeline(cfg.test_dataloader.dataset.pipeline)
    return target


def pseudo_label_path(img_path: str, img_dir: str, img_suffix: str,
                      out_dir: str) -> str:
    """Where the pseudo-label of ``img_path`` goes.

    Args:
        img_path (str): The image file.
        img_dir (str): The dataset's image folder (``data_prefix``).
        img_suffix (str): The dataset's image suffix.
        out_dir (str): The output folder.

    Returns:
        str: ``out_dir/<path below img_dir, suffix replaced by
        _pseudoTrainIds.png>``.
    """
    rel = osp.relpath(img_path, img_dir)
    if rel.startswith('..') or not rel.endswith(img_suffix):
        raise ValueError(f'{img_path} is not an image (*{img_suffix}) below '
                         f'{img_dir}')
    return osp.join(out_dir, rel[:-len(img_suffix)] + PSEUDO_LABEL_SUFFIX)


def as_train_ids(label: np.ndarray) -> np.ndarray:
    """A (H, W) map of class indices as uint8 train ids (255 is ignore)."""
    if label.max(initial=0) > 254:
        raise ValueError('pseudo-labels are uint8 train ids (< 255), got '
                         f'class {label.max()}')
    return label.astype(np.uint8)


def full_resolution_logits(model: torch.nn.Module, batch: dict) -> Tensor:
    """Logits of one image upsampled in one step to its original size.

    Args:
        model (nn.Module): An EncoderDecoder in eval mode.
        batch (dict): One collated sample (``inputs``, ``data_samples``).

    Returns:
        Tensor: Shape (C, H_ori, W_ori).

    Raises:
        ValueError: For padded inputs (their logits would need cropping)
            and for sliding-window inference.
    """
    mode = model.test_cfg.get('mode', 'whole')
    if mode != 'whole':
        raise ValueError(f'model.test_cfg.mode={mode!r}: pseudo-labels are '
                         "made with whole-image inference (mode='whole')")
    data = model.data_preprocessor(batch, False)
    meta = data['data_samples'][0].metainfo
    if any(meta.get('padding_size', [0])):
        raise ValueError(f'{meta.get("img_path")}: the input was padded '
                         f'({meta["padding_size"]}); use a test pipeline '
                         'and data_preprocessor without padding')
    logits = model.decode_head(model.extract_feat(data['inputs']))
    return F.interpolate(
        logits,
        size=meta['ori_shape'],
        mode='bilinear',
        align_corners=model.align_corners)[0]


def build_model(cfg: Config, checkpoint: str, device: str) -> torch.nn.Module:
    """The config's model with the checkpoint's weights, in eval mode."""
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.to(device).eval()


def check_meta(out_dir: str, checkpoint: str,
               refinement: Optional[dict] = None) -> None:
    """Refuse to mix labels of two checkpoints (or refinements) in one
    folder.

    Raises:
        SystemExit: If ``out_dir`` already holds labels of another
            checkpoint or made with other refinement settings.
    """
    path = osp.join(out_dir, META_FILE)
    if osp.isfile(path):
        with open(path) as f:
            meta = json.load(f)
        previous = meta.get('checkpoint')
        if previous != checkpoint:
            raise SystemExit(
                f'{out_dir} holds pseudo-labels of {previous}, not of '
                f'{checkpoint}; choose another --out (or delete it)')
        if meta.get('refinement') != refinement:
            raise SystemExit(
                f'{out_dir} holds pseudo-labels refined with '
                f'{meta.get("refinement")}, not {refinement}; choose '
                'another --out (or delete it)')


def write_meta(out_dir: str, meta: dict) -> None:
    """Record what made the labels.

    Called only once the checkpoint has loaded, so a refused checkpoint
    never claims the folder (which would block a rerun with another one).
    """
    check_meta(out_dir, meta['checkpoint'], meta.get('refinement'))
    atomic_write_bytes(
        json.dumps(meta, indent=2).encode(), osp.join(out_dir, META_FILE))


def refinement_settings(cfg: Config, num_classes: int) -> Optional[dict]:
    """The config's ``pseudo_label_refinement`` with resolved thresholds.

    Returns:
        dict | None: ``confidence``, ``thresholds`` (list of C floats or
        None), ``connectivity`` and ``ignore_padding``; None if the config
        has none.

    Raises:
        SystemExit: For unknown released thresholds or a wrong count.
    """
    spec = cfg.get('pseudo_label_refinement')
    if not spec:
        return None
    spec = dict(spec)
    thresholds = spec.get('thresholds')
    if isinstance(thresholds, str) and thresholds == 'from-stats':
        counts = class_pixel_counts(spec['class_stats'], num_classes)
        thresholds = thresholds_from_shares(counts.numpy()).tolist()
    elif isinstance(thresholds, str):
        if thresholds not in RELEASED_THRESHOLDS:
            raise SystemExit(
                f'pseudo_label_refinement.thresholds={thresholds!r}: not '
                f'one of {sorted(RELEASED_THRESHOLDS)} or \'from-stats\'')
        thresholds = list(RELEASED_THRESHOLDS[thresholds])
    if thresholds is not None and len(thresholds) != num_classes:
        raise SystemExit(
            f'pseudo_label_refinement: {len(thresholds)} thresholds for the '
            f'{num_classes} classes of the target dataset')
    return dict(
        confidence=float(spec.get('confidence', 0.9)),
        thresholds=thresholds,
        connectivity=int(spec.get('connectivity', 8)),
        ignore_padding=bool(spec.get('ignore_padding', False)))


def refined_label(model: torch.nn.Module, batch: dict,
                  refinement: dict) -> np.ndarray:
    """The spatial-prior label of one image at the input size.

    Softmax and refinement run at the input size (where the thresholds
    are counted), and the label stays there (the release's format, read as
    written by the self-training stage): the resized image's size, or the
    whole padded frame of a ``FitAndPad`` input (its padding ignore with
    ``refinement['ignore_padding']``).

    Args:
        model (nn.Module): An EncoderDecoder in eval mode.
        batch (dict): One collated sample.
        refinement (dict): From :func:`refinement_settings`.

    Returns:
        np.ndarray: (H_in, W_in) uint8 train ids, 255 = ignore, with
        ``(H_in, W_in)`` the sample's ``img_shape``.
    """
    data = model.data_preprocessor(batch, False)
    meta = data['data_samples'][0].metainfo
    inputs = data['inputs']
    logits = model.decode_head(model.extract_feat(inputs))
    logits = F.interpolate(
        logits,
        size=inputs.shape[2:],
        mode='bilinear',
        align_corners=model.align_corners)
    probs = F.softmax(logits.float(), dim=1)[0].cpu().numpy()
    label = refine_pseudo_label(probs, refinement['thresholds'],
                                refinement['confidence'],
                                refinement['connectivity'])
    # The resized image, without any padding of the data preprocessor.
    height, width = meta['img_shape'][:2]
    label = label[:height, :width]
    if refinement.get('ignore_padding') and 'fitted_shape' in meta:
        fit_h, fit_w = meta['fitted_shape']
        label[fit_h:] = 255
        label[:, fit_w:] = 255
    return np.ascontiguousarray(label)


def write_labels(model: torch.nn.Module,
                 dataset: Subset,
                 outputs: List[str],
                 num_workers: int,
                 refinement: Optional[dict] = None) -> None:
    """Predict every sample of ``dataset`` and write its label file.

    Args:
        model (nn.Module): The segmentor, in eval mode.
        dataset (Subset): The samples still to do.
        outputs (list[str]): Their output files, in the same order.
        num_workers (int): Data loading workers.
        refinement (dict, optional): Spatial-prior settings
            (:func:`refinement_settings`); None writes the plain argmax.
    """
    loader = DataLoader(
        dataset,
        batch_size=1,
        num_workers=num_workers,
        collate_fn=pseudo_collate)
    progress = ProgressBar(len(dataset))
    with torch.no_grad():
        for path, batch in zip(outputs, loader):
            if refinement is None:
                logits = full_resolution_logits(model, batch)
                label = as_train_ids(logits.argmax(dim=0).cpu().numpy())
            else:  # already uint8 train ids, 255 = ignore
                label = refined_label(model, batch, refinement)
            write_label_atomic(label, path)
            progress.update()


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    check_checkpoint_arg(args.checkpoint)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset = DATASETS.build(target_dataset_cfg(cfg, args.config))
    img_dir = dataset.data_prefix['img_path']
    outputs = [
        pseudo_label_path(
            dataset.get_data_info(i)['img_path'], img_dir, dataset.img_suffix,
            args.out) for i in range(len(dataset))
    ]
    checkpoint = (args.checkpoint if '://' in args.checkpoint else
                  osp.abspath(args.checkpoint))
    refinement = None if args.no_refinement else refinement_settings(
        cfg, len(dataset.metainfo.get('classes', ())))
    check_meta(args.out, checkpoint, refinement)
    remove_stale_temporaries(args.out, recursive=True)
    print('refinement: ' + ('none (argmax)' if refinement is None else
                            json.dumps(refinement)))
    todo = [i for i, path in enumerate(outputs) if not osp.isfile(path)]
    print(f'{len(dataset) - len(todo)} of {len(dataset)} pseudo-labels '
          f'already in {args.out}; writing {len(todo)}')
    if not todo:
        return
    model = build_model(cfg, args.checkpoint, args.device)
    write_meta(
        args.out,
        dict(
            config=osp.abspath(args.config),
            checkpoint=checkpoint,
            images=img_dir,
            suffix=PSEUDO_LABEL_SUFFIX,
            classes=list(dataset.metainfo.get('classes', ())),
            refinement=refinement))
    write_labels(model, Subset(dataset, todo), [outputs[i] for i in todo],
                 args.num_workers, refinement)
    print(f'\nPseudo-labels written to {args.out}')


if __name__ == '__main__':
    main()
