"""uint8 labels between processes (compact_label_collate, the dataset bases'
collate) and int64 labels again after UDADataPreProcessor: same values, same
training step, validation unchanged."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.runner import Runner
from mmseg.registry import METRICS, MODELS

from mmseg_uda.datasets.compact_label_collate import (compact_label,
                                                      compact_label_collate)

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def test_compact_label_is_lossless():
    label = torch.tensor([[[0, 18, 255, 7]]])
    out = compact_label(label)
    assert out.dtype == torch.uint8
    assert torch.equal(out.long(), label)
    for wide in (torch.tensor([[0, 256]]), torch.tensor([[-1, 3]])):
        assert compact_label(wide).dtype == torch.int64  # kept as is
    depth = torch.rand(1, 2, 2)
    assert compact_label(depth) is depth


def _demo_cfg(demo_data, workers=0):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'demo', 'maxsquare.py'))
    cfg.train_dataloader.dataset.source.data_root = demo_data.gta5
    cfg.train_dataloader.dataset.target.data_root = demo_data.cityscapes
    cfg.val_dataloader.dataset.data_root = demo_data.cityscapes
    for name in ('train_dataloader', 'val_dataloader'):
        cfg[name].num_workers = workers
        cfg[name].persistent_workers = workers > 0
    cfg.model.backbone.update(stage_blocks=(1, 1, 1, 1), base_channels=8,
                              stem_channels=8)
    cfg.model.decode_head.in_channels = 256
    return cfg


def test_dataset_bases_collate_uint8_labels():
    for name in ('gta5_to_cityscapes', 'synthia_to_cityscapes',
                 'synthia_to_cityscapes_7', 'synthia_to_mapillary_7',
                 'cityscapes_to_nthu'):
        cfg = Config.fromfile(
            osp.join(REPO, 'configs', '_base_', 'datasets', f'{name}.py'))
        for loader in ('train_dataloader', 'val_dataloader'):
            assert cfg[loader].collate_fn.type == 'compact_label_collate'
            assert cfg[loader].pin_memory and cfg[loader].persistent_workers


def test_loader_ships_uint8_and_preprocessor_restores_int64(demo_data):
    cfg = _demo_cfg(demo_data, workers=1)  # across a process boundary
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    batch = next(iter(loader))
    label = batch['source']['data_samples'][0].gt_sem_seg.data
    assert label.dtype == torch.uint8
    assert 'gt_sem_seg' not in batch['target']['data_samples'][0]
    model = MODELS.build(cfg.model)
    # mmengine's cast_data copies with this flag (asynchronous from pinned
    # memory on a GPU).
    assert model.data_preprocessor._non_blocking is True
    out = model.data_preprocessor(copy.deepcopy(batch), training=True)
    restored = out['data_samples']['source'][0].gt_sem_seg.data
    assert restored.dtype == torch.int64
    assert torch.equal(restored, label.long())
    assert (restored == 255).any() and (restored < 19).any()


def test_training_step_equals_int64_labels(demo_data):
    cfg = _demo_cfg(demo_data)
    dataset = Runner.build_dataloader(cfg.train_dataloader, seed=0).dataset
    np.random.seed(0)
    samples = [dataset[0]]
    wide = pseudo_collate(copy.deepcopy(samples))
    narrow = compact_label_collate(copy.deepcopy(samples))
    assert wide['source']['data_samples'][0].gt_sem_seg.data.dtype == \
        torch.int64
    assert narrow['source']['data_samples'][0].gt_sem_seg.data.dtype == \
        torch.uint8
    torch.manual_seed(0)
    model_a = MODELS.build(cfg.model)
    model_b = copy.deepcopy(model_a)
    losses = []
    for model, batch in ((model_a, wide), (model_b, narrow)):
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
        losses.append(model.train_step(batch, wrapper))
    assert losses[0].keys() == losses[1].keys()
    for key in losses[0]:
        assert torch.equal(losses[0][key], losses[1][key]), key
    for (name, a), b in zip(model_a.state_dict().items(),
                            model_b.state_dict().values()):
        assert torch.equal(a, b), name


def test_validation_reads_uint8_labels(demo_data):
    cfg = _demo_cfg(demo_data)
    loader = Runner.build_dataloader(cfg.val_dataloader, seed=0)
    batch = next(iter(loader))
    assert batch['data_samples'][0].gt_sem_seg.data.dtype == torch.uint8
    wide = copy.deepcopy(batch)
    for sample in wide['data_samples']:
        sample.gt_sem_seg.data = sample.gt_sem_seg.data.long()
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    results = []
    for data in (batch, wide):
        metric = METRICS.build(cfg.val_evaluator)
        metric.dataset_meta = loader.dataset.metainfo
        with torch.no_grad():
            outputs = model.val_step(data)
        assert outputs[0].gt_sem_seg.data.dtype == torch.int64
        metric.process(data, [o.to_dict() for o in outputs])
        results.append(metric.compute_metrics(metric.results))
    assert results[0] == pytest.approx(results[1], nan_ok=True)
