"""UDADataset: pairing, length, label hiding and class checks."""
import numpy as np
import pytest
from mmengine.dataset import pseudo_collate
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch.utils.data import Dataset

from mmseg_uda.datasets import UDADataset


class ListDataset(Dataset):

    def __init__(self, name, n, classes=('road', 'car')):
        self.name, self.n = name, n
        self.metainfo = dict(classes=classes)

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        sample = SegDataSample(
            gt_sem_seg=PixelData(data=np.zeros((1, 2, 2))))
        sample.set_metainfo(dict(tag=f'{self.name}{i}'))
        return dict(inputs=i, data_samples=sample)


def test_length_is_the_larger_domain_not_the_product():
    assert len(UDADataset(ListDataset('s', 7), ListDataset('t', 3))) == 7
    assert len(UDADataset(ListDataset('s', 2), ListDataset('t', 5))) == 5


def test_source_follows_the_index_and_target_is_drawn_independently():
    np.random.seed(0)
    ds = UDADataset(ListDataset('s', 4), ListDataset('t', 50))
    pairs = [ds[i] for i in range(50)]
    assert [p['source']['inputs'] for p in pairs] == [i % 4 for i in range(50)]
    targets = [p['target']['inputs'] for p in pairs]
    # Independent of the source index: not a fixed function of it.
    assert targets != list(range(50)) and len(set(targets)) > 20
    np.random.seed(0)
    again = [ds[i]['target']['inputs'] for i in range(50)]
    assert again == targets  # reproducible for a seed


def test_target_labels_are_removed_source_labels_kept():
    ds = UDADataset(ListDataset('s', 2), ListDataset('t', 2))
    item = ds[0]
    assert 'gt_sem_seg' in item['source']['data_samples']
    assert 'gt_sem_seg' not in item['target']['data_samples']


def test_collate_gives_a_batch_per_domain():
    ds = UDADataset(ListDataset('s', 3), ListDataset('t', 3))
    batch = pseudo_collate([ds[0], ds[1]])
    assert set(batch) == {'source', 'target'}
    assert batch['source']['inputs'] == [0, 1]
    assert len(batch['target']['data_samples']) == 2


def test_class_mismatch_says_what_differs():
    with pytest.raises(ValueError, match=r"only in the source: \['car'\]"):
        UDADataset(
            ListDataset('s', 2, ('road', 'car')),
            ListDataset('t', 2, ('road', 'bus')))
    ds = UDADataset(
        ListDataset('s', 2, ('road', 'car')),
        ListDataset('t', 2, ('road', 'bus')),
        check_classes=False)
    assert ds.metainfo['classes'] == ('road', 'car')


def test_empty_domain_is_an_error():
    with pytest.raises(ValueError, match='0 target'):
        UDADataset(ListDataset('s', 2), ListDataset('t', 0))
