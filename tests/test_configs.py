"""Every method config parses, names registered components, states its
paper number, builds its (ResNet-101 or MiT-B5) model, and trains an
iteration on generated data in its task's real layouts (all GTA5 ->
Cityscapes and CAG configs, every depth config, one per method for SYNTHIA
and NTHU; a tiny MiT for the DAFormer configs). The
depth self-training stages read pseudo-labels written here where their
dataset settings name them."""
import copy
import glob
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmseg.registry import DATASETS, MODELS, TRANSFORMS

from mmseg_uda.datasets import UDADataset

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..'))
METHOD_CONFIGS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
    if '/_base_/' not in p and '/demo/' not in p)
# Configs that train an iteration here: every GTA5 -> Cityscapes one
# (FADA's self-distillation on written pseudo-labels), every CAG config, and
# one per method of the other tasks' layouts.
TRAINED = sorted(set([
    c for c in METHOD_CONFIGS
    if osp.basename(c).startswith('gta2cs') or c.startswith('configs/cag/')
] + [
    'configs/source_only/synthia2cs.py', 'configs/maxsquare/synthia2cs.py',
    'configs/maxsquare/synthia2cs_iw_multi.py', 'configs/fada/synthia2cs.py',
    'configs/source_only/cs2nthu_taipei.py',
    'configs/maxsquare/cs2nthu_iw_tokyo.py', 'configs/fada/cs2nthu_rio.py',
    'configs/cag/synthia2cs_stage1.py', 'configs/dacs/synthia2cs_deeplabv2.py',
    'configs/daformer/synthia2cs.py'
] + [  # every depth config (self-training on written pseudo-labels)
    c for c in METHOD_CONFIGS if c.startswith('configs/depth/')
]))
CITY_CONFIGS = [c for c in METHOD_CONFIGS if 'cs2nthu' in c
                and 'source_only.py' not in c]


def walk_types(node):
    """Every ``type`` value in a config tree."""
    if isinstance(node, dict):
        if isinstance(node.get('type'), str):
            yield node['type']
        for value in node.values():
            yield from walk_types(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from walk_types(value)


@pytest.mark.parametrize('config', METHOD_CONFIGS)
def test_config_parses_and_its_components_are_registered(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    header = open(osp.join(REPO, config)).read().split('_base_')[0]
    assert 'paper' in header.lower() or 'Paper' in header, (
        f'{config}: the header must state the paper number')
    registries = (DATASETS, TRANSFORMS, MODELS)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for name in walk_types(cfg[loader].dataset):
            assert any(r.get(name) for r in registries), f'{config}: {name}'


def is_mit(cfg) -> bool:
    """Whether the config's encoder is a Mix Transformer (DAFormer)."""
    return cfg.model.backbone.type.endswith('MixVisionTransformer')


@pytest.mark.parametrize('config', METHOD_CONFIGS)
def test_config_builds_its_model(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    model = MODELS.build(cfg.model)
    if is_mit(cfg):  # MiT-B5
        assert [len(stage[1]) for stage in model.backbone.layers] == [
            3, 6, 40, 3]
    else:
        assert model.backbone.depth == 101


def datasets(node):
    """Every dataset config (a dict with a data_root) in a loader tree."""
    if isinstance(node, dict):
        if 'data_root' in node:
            yield node
        for value in node.values():
            yield from datasets(value)


@pytest.mark.parametrize('config', CITY_CONFIGS)
def test_city_configs_train_and_evaluate_on_their_city(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    city = osp.splitext(config)[0].rsplit('_', 1)[-1].capitalize()
    evaluated = [cfg.val_dataloader.dataset, cfg.test_dataloader.dataset]
    adapted = [d for d in datasets(cfg.train_dataloader)
               if d.type == 'NTHUDataset']
    for dataset in evaluated + adapted:
        assert dataset.get('city', 'Rome') == city, (config, dataset)


SIZED = {'Resize': 'scale', 'RandomResize': 'scale', 'RandomCrop': 'crop_size',
         'RandomWidthResize': 'width'}


def shrink_input_sizes(node, factor=8):
    """Divide every resize scale, random-resize width and crop size of the
    pipelines below ``node`` by ``factor`` (tiny inputs; the transforms
    still run)."""
    if isinstance(node, dict):
        key = SIZED.get(node.get('type'))
        if key and isinstance(node.get(key), (tuple, list)):
            node[key] = tuple(max(16, int(v) // factor) for v in node[key])
        elif key and isinstance(node.get(key), int):
            node[key] = max(16, node[key] // factor)
        for value in node.values():
            shrink_input_sizes(value, factor)
    elif isinstance(node, (list, tuple)):
        for value in node:
            shrink_input_sizes(value, factor)


def shrink(cfg, data):
    """The demo's shrink (tiny backbone), tiny inputs (but for the depth
    method, whose fitted density grid is tied to the input size) and the
    generated data's roots."""
    cfg.model.pretrained = None  # no ImageNet weights to load here
    if is_mit(cfg):  # a tiny MiT: dims 8/16/40/64, one block per stage
        cfg.model.backbone.update(embed_dims=8, num_layers=[1, 1, 1, 1])
        cfg.model.decode_head.update(in_channels=[8, 16, 40, 64],
                                     channels=16, embed_dims=16)
    else:
        cfg.model.backbone.update(depth=50, base_channels=8,
                                  stem_channels=8)
    if cfg.model.backbone.type == 'DeepLabResNet':
        cfg.model.backbone.stage_blocks = (1, 1, 1, 1)
    if cfg.model.decode_head.type == 'DeepLabV3PlusHead':  # layer1, layer4
        cfg.model.decode_head.update(in_channels=(32, 256), channels=32)
    elif not is_mit(cfg):
        cfg.model.decode_head.in_channels = 256
    if cfg.model.get('auxiliary_head'):
        cfg.model.auxiliary_head.in_channels = 128
    for term in cfg.model.get('uda_terms', []):
        if term.type == 'DepthDistribution':  # heads on layer4, tiny D
            term.update(
                in_channels=256,
                gmm_file=data.depth_gmm(term.num_classes, term.grid_size),
                depth_head=dict(type='ChannelMeanRegressionHead',
                                in_channels=256, channels=(8, 8, 4)),
                density_head=dict(type='ChannelMeanRegressionHead',
                                  in_channels=256, channels=(8, 8, 4)),
                discriminator=dict(type='FullyConvDiscriminator',
                                   in_channels=term.num_classes,
                                   channels=(4, 4, 4, 4)))
        elif 'discriminator' in term and term.type != 'OutputAdversarial':
            term.discriminator.in_channels = 256  # on the layer4 feature
        if term.type == 'CategoryAnchorGuided':  # head feature or layer4
            term.feature_dim = 32 if term.get('feature') == 'head' else 256
    for hook in cfg.get('custom_hooks', []):
        if hook.type == 'CategoryAnchorHook':  # no predecessor here
            hook.update(check_predecessor=False, max_batches=1,
                        missing_anchors='zero')
            hook.anchor_dataloader.update(batch_size=1, num_workers=0)
            for dataset in datasets(hook):
                dataset.data_root = data.roots[dataset.type]
    # V3+ image pooling BN needs 2 images in train mode
    cfg.train_dataloader.batch_size = min(cfg.train_dataloader.batch_size, 2)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(num_workers=0, persistent_workers=False)
        for dataset in datasets(cfg[loader]):
            dataset.data_root = data.roots[dataset.type]
            if dataset.get('image_list'):  # the release's names: absent
                dataset.image_list = data.mapillary_list
    if not any(t.type == 'DepthDistribution'
               for t in cfg.model.get('uda_terms', [])):
        shrink_input_sizes([cfg.train_dataloader] + [
            h for h in cfg.get('custom_hooks', []) if 'anchor_dataloader' in h
        ])
    if cfg.train_dataloader.dataset.type == 'RareClassSampledUDADataset':
        # the generated labels are small: every image with a class counts
        cfg.train_dataloader.dataset.min_pixels = 0
    cfg.load_from = None
    cfg.train_cfg.update(max_iters=1, val_interval=10)
    cfg.default_hooks.logger.interval = 1


def write_imagenet_weights(cfg, work_dir, save=True) -> None:
    """Stand-in ImageNet weights (the shrunk backbone's initial state, keys
    ``backbone.*``) where the feature-distance terms read them; with
    ``save=False`` the terms are pointed at that path without writing it."""
    terms = [t for t in cfg.model.get('uda_terms', [])
             if t.type == 'ImageNetFeatureDistance']
    if not terms:
        return
    path = osp.join(work_dir, 'imagenet_backbone.pth')
    if save:
        torch.manual_seed(0)  # the same weights for every run of a test
        backbone = MODELS.build(cfg.model.backbone)
        backbone.init_weights()
        torch.save({f'backbone.{k}': v
                    for k, v in backbone.state_dict().items()}, path)
    for term in terms:
        term.pretrained = path


def write_pseudo_labels(dataset_cfg, size=None) -> int:
    """Random pseudo-labels where a (shrunk) self-training dataset reads
    them: the paths its own settings give (``data_root``, ``data_prefix``,
    ``seg_map_suffix``, ``image_list``, ``indices``), with classes
    ``0..C-1`` and ignore (255), as tools/generate_pseudo_labels.py writes
    them: at the input ``size`` (W, H) for the depth method's refined
    labels, else at each image's size.

    Returns:
        int: How many samples the dataset has.
    """
    dataset_cfg = copy.deepcopy(dataset_cfg)
    dataset_cfg.update(pipeline=[], require_labels=False)
    dataset = DATASETS.build(dataset_cfg)
    label_dir = osp.join(dataset.data_root, 'pseudo_labels')
    num_classes = len(dataset.metainfo['classes'])
    rng = np.random.default_rng(0)
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        path = info['seg_map_path']
        # never fabricate a ground-truth label
        assert path.startswith(label_dir + os.sep), path
        height, width = (cv2.imread(info['img_path']).shape[:2]
                         if size is None else size[::-1])
        label = rng.integers(0, num_classes, (height, width), dtype=np.uint8)
        label[rng.random((height, width)) < 0.2] = 255
        os.makedirs(osp.dirname(path), exist_ok=True)
        assert cv2.imwrite(path, label), path
    return len(dataset)


@pytest.mark.parametrize('config', TRAINED)
def test_config_trains_an_iteration(config, task_data, tmp_path):
    cfg = Config.fromfile(osp.join(REPO, config))
    shrink(cfg, task_data)
    train_set = cfg.train_dataloader.dataset
    self_training = 'pseudo_labels' in train_set.get('data_prefix', {}).get(
        'seg_map_path', '')
    if self_training:  # the adaptation stage's labels, written
        size = None
        if cfg.get('pseudo_label_refinement'):  # at the (shrunk) input size
            (step, ) = [t for t in train_set.pipeline if 'scale' in t]
            size = step.scale
        assert write_pseudo_labels(train_set, size) > 0
    cfg.work_dir = str(tmp_path)
    write_imagenet_weights(cfg, str(tmp_path))
    cfg.experiment_name = osp.splitext(config.replace('/', '_'))[0]
    runner = Runner.from_cfg(cfg)
    runner.train()
    logged = set(runner.message_hub.log_scalars)
    model = runner.model
    for term in model.uda_terms:
        for loss in (getattr(term, 'target_loss', None),
                     getattr(term, 'guidance', None),
                     getattr(term, 'mix_loss', None),
                     getattr(term, 'masked_loss', None)):
            if loss is not None:
                assert f'train/tgt.{loss.loss_name}' in logged, logged
        if type(term).__name__ == 'ImageNetFeatureDistance':
            assert {'train/src.loss_imnet_feat_dist',
                    'train/src.imnet_feat_dist_cells'} <= logged, logged
    two_domain = issubclass(
        DATASETS.get(cfg.train_dataloader.dataset.type), UDADataset)
    source = 'train/src.decode.loss_ce' if two_domain else (
        'train/decode.loss_ce')
    assert source in logged, logged
    if self_training:  # CE on the pseudo-labels (20% ignore), not skipped
        loss = runner.message_hub.get_scalar(source).current()
        assert 0 < loss < float('inf'), loss


def test_rcs_fd_config_resumes_exactly(task_data, tmp_path):
    """configs/rcs_fd/gta2cs_maxsquare.py: 1 iteration, then --resume for
    1 more, equals 2 uninterrupted iterations bit for bit (the rare-class
    samples are a function of (seed, index); the frozen ImageNet copy comes
    back from the checkpoint, not from its file)."""

    def run(work_dir, max_iters, resume):
        cfg = Config.fromfile(
            osp.join(REPO, 'configs/rcs_fd/gta2cs_maxsquare.py'))
        shrink(cfg, task_data)
        cfg.train_cfg.update(max_iters=max_iters, val_interval=100)
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
        cfg.default_hooks.checkpoint.update(interval=1, max_keep_ckpts=3)
        cfg.work_dir = str(work_dir)
        # the resumed run must not find the file
        write_imagenet_weights(cfg, str(tmp_path), save=not resume)
        cfg.resume = resume
        cfg.experiment_name = f'rcs_fd_resume_{work_dir.name}_{max_iters}'
        runner = Runner.from_cfg(cfg)
        runner.train()
        return runner.model.state_dict()

    full = run(tmp_path / 'full', 2, False)
    run(tmp_path / 'part', 1, False)
    os.remove(osp.join(tmp_path, 'imagenet_backbone.pth'))
    resumed = run(tmp_path / 'part', 2, True)
    assert not osp.exists(osp.join(tmp_path, 'imagenet_backbone.pth'))
    assert any(k.startswith('uda_terms.1.imnet_backbone.') for k in full)
    assert full.keys() == resumed.keys()
    different = [k for k in full if not torch.equal(full[k], resumed[k])]
    assert not different, different
