import numpy as np
from mmengine.registry import init_default_scope
from mmseg.datasets import CityscapesDataset
from mmseg.registry import DATASETS
from PIL import Image

from mmseg_uda.datasets import CityscapesUDADataset

PIPELINE = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations'),
    dict(type='CheckSegMapSize')
]


def _write_converted_cityscapes(root, split: str, hw=(4, 8)) -> dict:
    """Two cities, two images each; returns {stem: train-id label}."""
    rng = np.random.default_rng(1)
    labels = {}
    for city in ('bremen', 'aachen'):
        (root / 'leftImg8bit' / split / city).mkdir(parents=True)
        (root / 'gtFine' / split / city).mkdir(parents=True)
        for i in range(2):
            stem = f'{city}_000000_{i:06d}'
            Image.fromarray(rng.integers(0, 256, (*hw, 3), np.uint8)).save(
                root / 'leftImg8bit' / split / city /
                f'{stem}_leftImg8bit.png')
            label = rng.choice([1, 10, 255], size=hw).astype(np.uint8)
            Image.fromarray(label).save(root / 'gtFine' / split / city /
                                        f'{stem}_gtFine_labelTrainIds.png')
            labels[stem] = label
    return labels


def test_registered_subclass_of_mmseg_cityscapes():
    assert DATASETS.get('CityscapesUDADataset') is CityscapesUDADataset
    assert issubclass(CityscapesUDADataset, CityscapesDataset)


def test_loads_converted_split(tmp_path):
    init_default_scope('mmseg')
    labels = _write_converted_cityscapes(tmp_path, 'val')
    dataset = CityscapesUDADataset(
        data_root=str(tmp_path),
        data_prefix=dict(
            img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        pipeline=PIPELINE)
    assert len(dataset) == 4
    info = dataset.get_data_info(0)
    assert info['img_path'] == str(tmp_path / 'leftImg8bit/val/aachen/'
                                   'aachen_000000_000000_leftImg8bit.png')
    assert info['seg_map_path'] == str(
        tmp_path / 'gtFine/val/aachen/aachen_000000_000000_'
        'gtFine_labelTrainIds.png')
    for i in range(len(dataset)):
        results = dataset[i]
        stem = results['img_path'].split('/')[-1][:-len('_leftImg8bit.png')]
        np.testing.assert_array_equal(results['gt_seg_map'], labels[stem])
        assert set(np.unique(results['gt_seg_map'])) <= set(range(19)) | {255}


def test_unlabeled_split_needs_no_labels(tmp_path):
    init_default_scope('mmseg')
    _write_converted_cityscapes(tmp_path, 'train')
    for label in (tmp_path / 'gtFine').rglob('*.png'):
        label.unlink()
    dataset = CityscapesUDADataset(
        data_root=str(tmp_path),
        data_prefix=dict(img_path='leftImg8bit/train'),
        pipeline=[
            dict(type='CheckedLoadImageFromFile'),
            dict(type='CheckSegMapSize')
        ])
    assert len(dataset) == 4
    assert 'seg_map_path' not in dataset.get_data_info(0)
    assert dataset[0]['img'].shape == (4, 8, 3)
