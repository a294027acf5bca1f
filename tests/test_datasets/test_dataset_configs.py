"""Every dataset base config of the seed papers' tasks builds its training
pair, validation set and metric on fake converted data."""
import json
from pathlib import Path

import numpy as np
import publisher_layouts as layouts
import pytest
from mmengine import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATA_SAMPLERS, DATASETS, METRICS

from mmseg_uda.datasets.data_root_check import DataRootError

REPO = Path(__file__).resolve().parents[2]
BASES = REPO / 'configs' / '_base_' / 'datasets'
NAMES_16 = tuple(layouts.NAMES_19[i] for i in layouts.KEEP_16)
NAMES_13 = tuple(layouts.NAMES_19[i] for i in layouts.KEEP_13)


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('data')
    layouts.write_synthia(root / 'synthia', num=2)
    layouts.write_cityscapes(
        root / 'cityscapes',
        splits=(('train', 'aachen'), ('train', 'bremen'), ('val', 'lindau')))
    layouts.write_nthu(root / 'nthu', cities=('Rome', 'Tokyo'))
    layouts.write_mapillary(root / 'mapillary')
    for name in ('synthia', 'cityscapes', 'nthu', 'mapillary'):
        layouts.convert(name, root / name)
    return root


def _load(name: str, data: Path, child: str = '') -> Config:
    if child:
        path = data / f'{name}_child.py'
        path.write_text(f'_base_ = [{str(BASES / name) + ".py"!r}]\n' + child)
        cfg = Config.fromfile(str(path))
    else:
        cfg = Config.fromfile(str(BASES / f'{name}.py'))
    roots = dict(
        SynthiaDataset='synthia',
        CityscapesUDADataset='cityscapes',
        NTHUDataset='nthu',
        MapillaryDataset='mapillary')
    uda = cfg.train_dataloader.dataset
    for dataset in (uda.source, uda.target, cfg.val_dataloader.dataset,
                    cfg.test_dataloader.dataset):
        dataset.data_root = str(data / roots[dataset.type])
    return cfg


def _build_all(cfg: Config):
    init_default_scope('mmseg')
    pair = DATASETS.build(cfg.train_dataloader.dataset)
    val = DATASETS.build(cfg.val_dataloader.dataset)
    metric = METRICS.build(cfg.val_evaluator)
    metric.dataset_meta = val.metainfo
    return pair, val, metric


@pytest.mark.parametrize('name,classes,convention', [
    ('synthia_to_cityscapes', NAMES_16, 'classes: 16 (mIoU), 13 (mIoU*)'),
    ('synthia_to_cityscapes_7', layouts.NAMES_7, 'classes: 7 (mIoU)'),
    ('synthia_to_mapillary_7', layouts.NAMES_7, 'classes: 7 (mIoU)'),
    ('cityscapes_to_nthu', NAMES_13, 'classes: 13 (mIoU)'),
    ('uda_synthia_to_cityscapes_512x512', layouts.NAMES_19,
     'classes: 19 (mIoU), 16 (mIoU16), 13 (mIoU*)'),
])
def test_base_builds_pair_val_and_metric(data, name, classes, convention):
    cfg = _load(name, data)
    pair, val, metric = _build_all(cfg)
    assert pair.metainfo['classes'] == classes == val.metainfo['classes']
    assert convention in metric.convention()
    sample = pair[0]
    source = sample['source']['data_samples']
    valid = set(range(len(classes))) | {255}
    assert set(np.unique(source.gt_sem_seg.data.numpy())) <= valid
    assert 'gt_sem_seg' not in sample['target']['data_samples']
    if name.endswith('_7'):
        # the depth method's source delivers its depth target
        assert source.gt_depth_map.data.shape == source.gt_sem_seg.data.shape
        assert source.gt_depth_map.data.min() >= 1.0
    test = val[0]
    labels = test['data_samples'].gt_sem_seg.data
    assert set(np.unique(labels.numpy())) <= valid


def test_synthia_16_mIoU_star_is_the_13_classes(data):
    cfg = _load('synthia_to_cityscapes', data)
    assert tuple(cfg.miou13_classes) == NAMES_13
    assert tuple(cfg.val_evaluator.class_subsets['mIoU*']) == NAMES_13


def test_class_balanced_sampler_replaces_the_base_sampler(data):
    cfg = _load('synthia_to_cityscapes', data,
                "train_dataloader = dict(sampler=dict("
                "type='ClassBalancedSampler'))\n")
    pair, _, _ = _build_all(cfg)
    sampler = DATA_SAMPLERS.build(
        cfg.train_dataloader.sampler, default_args=dict(dataset=pair, seed=0))
    # the SYNTHIA converter's statistics of the 16-class labels
    assert [len(c) for c in sampler.image_classes] == [16, 16]
    indices = [i for _, i in zip(range(20), sampler)]
    assert set(indices) == {0, 1}


def test_synthia_depth_variant_of_the_16_class_base(data):
    cfg = _load('synthia_to_cityscapes', data)
    init_default_scope('mmseg')
    source = cfg.source_train_depth
    source.data_root = str(data / 'synthia')
    sample = DATASETS.build(source)[0]['data_samples']
    assert sample.gt_depth_map.data.shape == (1, 760, 1280)


def test_low_resolution_evaluation_of_the_7_class_base(data):
    cfg = _load(
        'synthia_to_cityscapes_7', data, 'val_dataloader = dict(dataset=dict('
        'pipeline=_base_.low_res_test_pipeline))\n'
        'val_evaluator = _base_.low_res_evaluator\n')
    _, val, metric = _build_all(cfg)
    assert val[0]['data_samples'].gt_sem_seg.data.shape == (1, 320, 640)
    assert 'labels at inference size' in metric.convention()


@pytest.mark.parametrize('city', ['Rome', 'Tokyo'])
def test_nthu_city_chosen_in_a_child_config(data, city):
    child = ('city = {!r}\n'
             'train_dataloader = dict(dataset=dict(target=dict(city=city)))\n'
             'val_dataloader = dict(dataset=dict(city=city))\n'
             'test_dataloader = val_dataloader\n').format(city)
    cfg = _load('cityscapes_to_nthu', data, child)
    assert cfg.test_dataloader.dataset.city == city
    pair, val, _ = _build_all(cfg)
    assert pair.target.city == val.city == city
    assert f'/{city}/Images/Test/' in val.get_data_info(0)['img_path']
    assert f'/{city}/Images/Train/' in pair.target.get_data_info(0)['img_path']
    assert len(pair.source) == 2  # Cityscapes train, 13-class labels
    assert pair.source.seg_map_suffix == '_gtFine_labelTrainIds13.png'


def test_wrong_root_stops_with_folder_and_converter(data, tmp_path):
    cfg = _load('synthia_to_cityscapes', data)
    cfg.train_dataloader.dataset.source.data_root = str(tmp_path / 'none')
    init_default_scope('mmseg')
    with pytest.raises(DataRootError) as err:
        DATASETS.build(cfg.train_dataloader.dataset)
    assert str(tmp_path / 'none' / 'RGB') in str(err.value)
    assert 'tools/dataset_converters/synthia.py' in str(err.value)


def test_rare_class_sampling_on_the_19_class_synthia_base(data):
    """RCS on SYNTHIA's 19-class labels (DAFormer's setting) reads the
    converter's statistics of those labels: it draws the classes that have
    pixels in them."""
    cfg = _load(
        'uda_synthia_to_cityscapes_512x512', data,
        "train_dataloader = dict(sampler=dict(type='InfiniteIndexSampler'),"
        " dataset=dict(type='RareClassSampledUDADataset', min_pixels=0))\n")
    pair, _, _ = _build_all(cfg)
    DATA_SAMPLERS.build(
        cfg.train_dataloader.sampler, default_args=dict(dataset=pair, seed=0))
    with open(data / 'synthia' / 'class_stats.json') as f:
        labels = json.load(f)['labels']
    present = {
        int(c)
        for key, entry in labels.items()
        if key.endswith('_labelTrainIds.png') for c in entry['pixels']
    }
    assert set(pair.classes.tolist()) == present
    sample = pair[0]
    source = sample['source']['data_samples']
    assert (source.gt_sem_seg.data == source.rcs_class).any()
    assert 'gt_sem_seg' not in sample['target']['data_samples']
