"""Stage start of CAG-UDA: frozen prediction model and category anchors."""
import copy
import os.path as osp
from typing import Optional, Tuple, Union

import torch
from mmengine.dataset import pseudo_collate
from mmengine.dist import broadcast, is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from mmengine.runner.checkpoint import _load_checkpoint
from mmengine.utils import ProgressBar
from mmseg.registry import DATASETS
from torch import Tensor
from torch.utils.data import DataLoader

from ...models.uda.category_anchors import resize_labels, update_anchors
from ...utils.checkpoint_integrity import (CorruptCheckpointError,
                                           save_checkpoint_file)
from ...utils.checkpoint_safety import UnsafeCheckpointError, safe_torch_load


def compute_anchors(term, model, dataloader, max_batches: Optional[int],
                    min_pixels: int = 10,
                    max_count: int = 3000) -> Tuple[Tensor, Tensor]:
    """Anchors of ``term``'s frozen network on labelled source batches.

    Args:
        term (CategoryAnchorGuided): Its frozen network predicts (eval mode,
            no augmentation beyond the loader's pipeline).
        model (UDAEncoderDecoder): For its data preprocessor.
        dataloader (Iterable): Single-domain labelled batches.
        max_batches (int, optional): Stop after this many batches; None
            runs the whole loader.

    Returns:
        tuple[Tensor, Tensor]: Anchors (C, D) and counts (C,).
    """
    anchors = torch.zeros_like(term.anchors)
    counts = torch.zeros_like(term.anchor_counts)
    total = len(dataloader)
    if max_batches is not None:
        total = min(total, max_batches)
    progress = ProgressBar(total)
    for index, batch in enumerate(dataloader):
        if index >= total:
            break
        data = model.data_preprocessor(batch, training=True)
        feature, logits = term.frozen_model(data['inputs'])
        labels = torch.stack(
            [s.gt_sem_seg.data[0] for s in data['data_samples']]).long()
        labels = resize_labels(labels, feature.shape[2:])
        update_anchors(anchors, counts, feature.float(), labels,
                       logits.argmax(dim=1), min_pixels, max_count)
        progress.update()
    return anchors, counts


@HOOKS.register_module()
class CategoryAnchorHook(Hook):
    """Prepares a CAG-UDA stage before its first iteration.

    At iteration 0 (a new stage, started from ``load_from``):

    1. checks that ``load_from`` is the stage's predecessor: the warm-up
       (a checkpoint with an output-space discriminator, no CAG stage) for
       stage 1, CAG stage k-1 for stage k, and that it holds the whole
       backbone and decode head with the model's shapes;
    2. copies the segmentor's weights into the term's frozen prediction
       network;
    3. computes the category anchors with it on ``anchor_dataloader`` (main
       process, progress bar; broadcast to every rank) or loads
       ``anchor_file``, checks them (shape, a class without anchor), stores
       them in the term's buffers and writes them to
       ``<work_dir>/<save_name>`` (atomically).

    A resumed run (iteration > 0) keeps the checkpoint's anchors and frozen
    network and recomputes nothing.

    Args:
        anchor_dataloader (dict, optional): Loader of labelled source images
            (eval pipeline: base-size resize, no augmentation).
        max_batches (int, optional): Batches used. Defaults to None (all).
        anchor_file (str, optional): Load anchors from this file instead.
        save_name (str): File name under the work dir. Defaults to
            'anchors.pth'.
        check_predecessor (bool): Do check 1. Defaults to True.
        missing_anchors (str): A class that got no anchor: 'error' (default)
            or 'zero' (its anchor stays the zero vector, with a warning;
            for data lacking classes, such as the demo's).
        term_index (int): Index of the CAG term in ``model.uda_terms``.
            Defaults to 0.
    """

    priority = 'NORMAL'

    def __init__(self,
                 anchor_dataloader: Optional[dict] = None,
                 max_batches: Optional[int] = None,
                 anchor_file: Optional[str] = None,
                 save_name: str = 'anchors.pth',
                 check_predecessor: bool = True,
                 missing_anchors: str = 'error',
                 term_index: int = 0) -> None:
        if missing_anchors not in ('error', 'zero'):
            raise ValueError("CategoryAnchorHook: missing_anchors must be "
                             f"'error' or 'zero', got {missing_anchors!r}")
        self.missing_anchors = missing_anchors
        if (anchor_dataloader is None) == (anchor_file is None):
            raise ValueError('CategoryAnchorHook: give exactly one of '
                             'anchor_dataloader and anchor_file')
        self.anchor_dataloader = anchor_dataloader
        self.max_batches = max_batches
        self.anchor_file = anchor_file
        self.save_name = save_name
        self.check_predecessor = check_predecessor
        self.term_index = term_index

    def _term(self, runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        terms = getattr(model, 'uda_terms', [])
        if self.term_index >= len(terms) or not hasattr(
                terms[self.term_index], 'set_anchors'):
            raise TypeError(
                f'CategoryAnchorHook: model.uda_terms[{self.term_index}] is '
                'not a CategoryAnchorGuided term')
        return model, terms[self.term_index]

    def before_train(self, runner) -> None:
        model, term = self._term(runner)
        if runner.iter > 0:
            if not term.anchors_ready:
                raise RuntimeError(
                    'CategoryAnchorHook: resumed at iteration '
                    f'{runner.iter} but the checkpoint holds no anchors')
            runner.logger.info(
                f'CAG stage {term.stage_index}: resumed at iteration '
                f'{runner.iter}; anchors and frozen model from the '
                'checkpoint (not recomputed)')
            return
        load_from = runner.cfg.get('load_from')
        if self.check_predecessor:
            check_predecessor(load_from, model, term)
        term.frozen_model.load_from(model)
        term.stage.fill_(term.stage_index)
        if self.anchor_file is not None:
            anchors, counts = load_anchor_file(self.anchor_file)
            source = self.anchor_file
        else:
            anchors, counts = self._compute(runner, model, term)
            source = f'anchors computed from {load_from}'
        term.set_anchors(
            anchors.to(term.anchors),
            counts.to(term.anchor_counts),
            source,
            allow_missing=self.missing_anchors == 'zero')
        empty = (term.anchor_counts == 0).nonzero().flatten().tolist()
        if empty:
            runner.logger.warning(
                f'CAG: classes {empty} got no anchor; their anchors are '
                "zero (missing_anchors='zero')")
        path = osp.join(runner.work_dir, self.save_name)
        if is_main_process():
            save_anchor_file(path, term, load_from)
        runner.logger.info(
            f'CAG stage {term.stage_index}: frozen prediction model and '
            f'{term.num_classes} anchors ({term.feature_dim}-d) from '
            f'{source}; per-class counts {term.anchor_counts.tolist()}; '
            f'saved to {path}')

    def _compute(self, runner, model, term) -> Tuple[Tensor, Tensor]:
        anchors = torch.zeros_like(term.anchors)
        counts = torch.zeros_like(term.anchor_counts)
        if is_main_process():
            loader = build_anchor_loader(self.anchor_dataloader)
            runner.logger.info(
                'CAG: computing anchors on '
                f'{min(len(loader), self.max_batches or len(loader))} batches')
            anchors, counts = compute_anchors(term, model, loader,
                                              self.max_batches)
        broadcast(anchors, 0)
        broadcast(counts, 0)
        return anchors, counts


def build_anchor_loader(cfg: dict) -> DataLoader:
    """A plain (not rank-sharded) loader over the whole anchor dataset.

    ``cfg`` takes ``dataset``, ``batch_size`` (4), ``num_workers`` (0) and
    ``shuffle`` (False; with it, a fixed ``seed``, default 0).
    """
    cfg = copy.deepcopy(dict(cfg))
    dataset = DATASETS.build(cfg.pop('dataset'))
    generator = torch.Generator().manual_seed(cfg.pop('seed', 0))
    return DataLoader(
        dataset,
        batch_size=cfg.pop('batch_size', 4),
        shuffle=cfg.pop('shuffle', False),
        num_workers=cfg.pop('num_workers', 0),
        generator=generator,
        collate_fn=pseudo_collate,
        **cfg)


def save_anchor_file(path: str, term, load_from: Optional[str]) -> None:
    """Write ``{anchors, counts, meta}`` atomically, with an integrity
    record."""
    save_checkpoint_file(
        dict(
            anchors=term.anchors.detach().cpu(),
            counts=term.anchor_counts.detach().cpu(),
            meta=dict(
                stage=term.stage_index,
                num_classes=term.num_classes,
                feature_dim=term.feature_dim,
                load_from=load_from)), path)


def load_anchor_file(path: str) -> Tuple[Tensor, Tensor]:
    """Read an anchor file written by :func:`save_anchor_file`, safely
    (weights only) and verified against its integrity record."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'CAG anchor file not found: {path}')
    try:
        data = safe_torch_load(path, map_location='cpu')
    except (UnsafeCheckpointError, CorruptCheckpointError) as err:
        raise type(err)(
            f'CAG anchor file {path} (anchor_file of CategoryAnchorHook) '
            f'cannot be used: {err} To make a new one, run the stage with '
            'anchor_dataloader instead of anchor_file: it computes the '
            'anchors and writes them to <work_dir>/anchors.pth.') from err
    if not isinstance(data, dict) or not {'anchors', 'counts'} <= set(data):
        raise ValueError(f'{path}: not a CAG anchor file (needs "anchors" '
                         'and "counts")')
    return data['anchors'], data['counts']


def check_predecessor(load_from: Union[str, None], model, term) -> None:
    """Raise a clear error if ``load_from`` is not the stage's start.

    Stage 1 starts from the warm-up (an output-space discriminator, no CAG
    stage); stage k > 1 from stage k - 1. The checkpoint must also hold the
    backbone and decode head with the model's shapes.
    """
    want = term.stage_index - 1
    kind = 'the warm-up' if want == 0 else f'CAG stage {want}'
    if not load_from:
        raise ValueError(f'CAG stage {term.stage_index} starts from {kind}: '
                         'set load_from to its final checkpoint')
    checkpoint = _load_checkpoint(load_from, map_location='cpu')
    state = checkpoint.get('state_dict', checkpoint)
    stages = [int(v) for k, v in state.items() if k.endswith('.stage')
              and k.startswith('uda_terms.')]
    found = stages[0] if stages else 0
    has_disc = any(k.startswith('uda_terms.') and '.discriminator.' in k
                   for k in state)
    if found != want or (want == 0 and not has_disc):
        got = f'CAG stage {found}' if found else (
            'an output-adversarial (warm-up) model'
            if has_disc else 'a model without UDA stage (e.g. source-only)')
        raise ValueError(
            f'{load_from}: CAG stage {term.stage_index} must start from '
            f'{kind}, but this checkpoint is {got}')
    for prefix in ('backbone', 'decode_head'):
        for name, value in getattr(model, prefix).state_dict().items():
            key = f'{prefix}.{name}'
            got = tuple(state[key].shape) if key in state else 'missing'
            if got != tuple(value.shape):
                raise ValueError(
                    f'{load_from}: {key} is {got}, the model needs '
                    f'{tuple(value.shape)}; is it the same network?')
