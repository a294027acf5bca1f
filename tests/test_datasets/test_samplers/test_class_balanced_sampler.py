import bisect
import itertools
import json
import math

import numpy as np
import pytest
import torch
from mmengine.dataset import InfiniteSampler
from mmseg.registry import DATA_SAMPLERS

from mmseg_uda.datasets import ClassBalancedSampler, UDADataset
from mmseg_uda.datasets.data_root_check import DataRootError
from mmseg_uda.datasets.samplers.class_balanced_sampler import (
    class_balanced_indices, class_weights)


class FakeLabelled:
    """The parts of a BaseSegDataset the sampler uses."""

    converter_script = 'fake.py'

    def __init__(self, root, classes_per_image, num_classes=4, pixels=None):
        self.data_root = str(root)
        self.metainfo = dict(
            classes=tuple(f'c{i}' for i in range(num_classes)))
        self.paths = [
            f'{root}/labels/{i:04d}_labelTrainIds.png'
            for i in range(len(classes_per_image))
        ]
        stats = {
            f'labels/{i:04d}_labelTrainIds.png': {
                str(c): (pixels or {}).get((i, c), 10)
                for c in classes
            }
            for i, classes in enumerate(classes_per_image)
        }
        (root / 'class_stats.json').write_text(json.dumps(stats))

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, idx):
        return dict(idx=idx)

    def get_data_info(self, idx):
        return dict(seg_map_path=self.paths[idx])


def _skewed(root, num=200, rare=4):
    # class 0 everywhere, class 1 in every other image, class 2 in `rare`
    # images, class 3 nowhere
    classes = [[0] + ([1] if i % 2 else []) + ([2] if i < rare else [])
               for i in range(num)]
    return FakeLabelled(root, classes), classes


def _released_stream(classes, num_classes, seed, n, reset=3000):
    """Plain-Python version of FADA's released sampler (issue 10): shares
    count_c / sum of counts, counts zeroed every `reset` draws, each class's
    list walked in stored order until its first wrap, then reshuffled and
    restarted at index len % (len - 1)."""
    rng = np.random.default_rng(seed)
    lists = [[i for i, cs in enumerate(classes) if c in cs]
             for c in range(num_classes)]
    pos = [0] * num_classes
    count = [0] * num_classes
    out = []
    for step in range(n):
        total = sum(count)
        weights = [
            1 / math.log(1.01 + (count[c] / total if total else 0))
            if lists[c] else 0.0 for c in range(num_classes)
        ]
        cdf = list(itertools.accumulate(weights))
        c = bisect.bisect_right(cdf, rng.random() * cdf[-1])
        index = int(lists[c][pos[c]])
        for k in classes[index]:
            count[k] += 1
        pos[c] += 1
        if pos[c] == len(lists[c]):
            lists[c] = list(rng.permutation(lists[c]))
            length = len(lists[c])
            pos[c] = length % (length - 1) if length > 1 else 0
        if (step + 1) % reset == 0:
            count = [0] * num_classes
        out.append(index)
    return out


def _class_frequencies(stream, classes, num_classes):
    return np.array([np.mean([c in classes[i] for i in stream])
                     for c in range(num_classes)])


def _reference_stream(classes, num_classes, seed, n):
    """Plain-Python version of the `running_share` option."""
    rng = np.random.default_rng(seed)
    members = [[i for i, cs in enumerate(classes) if c in cs]
               for c in range(num_classes)]
    orders = [list(rng.permutation(m)) if m else [] for m in members]
    position = [0] * num_classes
    drawn = [0] * num_classes
    out = []
    for step in range(n):
        weights = [
            1 /
            math.log(1.01 +
                     (drawn[c] / step if step else 0)) if members[c] else 0.0
            for c in range(num_classes)
        ]
        cdf = list(itertools.accumulate(weights))
        c = bisect.bisect_right(cdf, rng.random() * cdf[-1])
        index = int(orders[c][position[c] % len(orders[c])])
        position[c] += 1
        for k in classes[index]:
            drawn[k] += 1
        out.append(index)
    return out


def _take(sampler, n):
    return list(itertools.islice(iter(sampler), n))


def test_weights_by_hand():
    drawn = np.array([4, 1, 0, 0])
    w = class_weights(drawn, 4, np.array([True, True, True, False]))
    np.testing.assert_allclose(
        w, [1 / math.log(2.01), 1 / math.log(1.26), 1 / math.log(1.01), 0])
    # before the first draw every available class weighs 1/log(1.01)
    np.testing.assert_allclose(
        class_weights(np.zeros(3), 0, np.ones(3, bool)),
        [1 / math.log(1.01)] * 3)


def test_running_share_option_equals_plain_python_reference(tmp_path):
    dataset, classes = _skewed(tmp_path, num=30, rare=3)
    sampler = ClassBalancedSampler(dataset, seed=7, protocol='running_share')
    assert _take(sampler, 300) == _reference_stream(classes, 4, 7, 300)


def test_release_stream_equals_plain_python_reference(tmp_path):
    dataset, classes = _skewed(tmp_path, num=30, rare=3)
    sampler = ClassBalancedSampler(dataset, seed=7)
    assert _take(sampler, 300) == _released_stream(classes, 4, 7, 300)


def test_release_draw_frequencies_with_resets(tmp_path):
    # overlapping classes of very different frequency, as in GTA5
    rng = np.random.default_rng(0)
    presence = [0.95, 0.6, 0.3, 0.1, 0.03]
    classes = [[c for c, f in enumerate(presence) if rng.random() < f]
               for _ in range(120)]
    dataset = FakeLabelled(tmp_path, classes, num_classes=5)
    n = 7000  # two resets
    stream = _take(ClassBalancedSampler(dataset, seed=3), n)
    expected = _class_frequencies(
        _released_stream(classes, 5, 3, n), classes, 5)
    np.testing.assert_allclose(
        _class_frequencies(stream, classes, 5), expected)
    # a shorter reset interval changes the draws; the option is honoured
    short = _take(ClassBalancedSampler(dataset, seed=3, reset_interval=50), n)
    assert short == _released_stream(classes, 5, 3, n, reset=50)
    assert short != stream
    # METHODS.md's running share draws differently
    running = _take(
        ClassBalancedSampler(dataset, seed=3, protocol='running_share'), n)
    assert not np.allclose(
        _class_frequencies(running, classes, 5), expected, atol=1e-3)


def test_release_walks_stored_order_then_reshuffles(tmp_path):
    # class 1 only in images 5, 9, 13, 17: its draws come in stored order
    # until the wrap, then from a reshuffled list starting at index 1
    classes = [[0] + ([1] if i in (5, 9, 13, 17) else []) for i in range(20)]
    dataset = FakeLabelled(tmp_path, classes, num_classes=2)
    stream = _take(ClassBalancedSampler(dataset, seed=0), 400)
    only_0 = [i for i in stream if 1 not in classes[i]]
    assert only_0[:16] == [i for i in range(20) if 1 not in classes[i]]
    reference = _released_stream(classes, 2, 0, 400)
    assert stream == reference


def test_rare_classes_drawn_far_more_than_uniform(tmp_path):
    dataset, classes = _skewed(tmp_path)
    n = 3000
    balanced = _take(ClassBalancedSampler(dataset, seed=0), n)
    uniform = _take(InfiniteSampler(dataset, seed=0), n)

    def share(indices, c):
        return np.mean([c in classes[i] for i in indices])

    assert share(uniform, 2) < 0.05  # 4 of 200 images
    # class 2 is picked about as often as the others: ~1/3 of the draws
    assert share(balanced, 2) > 0.25
    assert share(balanced, 2) > 8 * share(uniform, 2)
    # the per-class list cycles through all 4 rare images
    assert sorted(set(i for i in balanced if i < 4)) == [0, 1, 2, 3]
    # class 3 is in no image and never selects anything: all indices valid
    assert set(balanced) <= set(range(200))


def test_deterministic_for_a_seed(tmp_path):
    dataset, _ = _skewed(tmp_path, num=50)
    first = _take(ClassBalancedSampler(dataset, seed=3), 200)
    assert _take(ClassBalancedSampler(dataset, seed=3), 200) == first
    assert _take(ClassBalancedSampler(dataset, seed=4), 200) != first


def test_restarted_and_advanced_equals_continuing(tmp_path):
    """MMEngine resumes IterBasedTrainLoop by advancing a fresh data loader
    `iter` batches; a pure function of the seed then continues exactly."""
    dataset, _ = _skewed(tmp_path, num=50)
    continuing = iter(ClassBalancedSampler(dataset, seed=11))
    before = list(itertools.islice(continuing, 37))
    after = list(itertools.islice(continuing, 60))
    restarted = iter(ClassBalancedSampler(dataset, seed=11))
    for _ in range(37):
        next(restarted)
    assert list(itertools.islice(restarted, 60)) == after
    assert before + after == _take(ClassBalancedSampler(dataset, seed=11), 97)


def test_through_a_data_loader_with_resume(tmp_path):
    dataset, _ = _skewed(tmp_path, num=50)

    def loader():
        return torch.utils.data.DataLoader(
            dataset,
            batch_size=2,
            sampler=ClassBalancedSampler(dataset, seed=5),
            collate_fn=lambda batch: [b['idx'] for b in batch])

    batches = list(itertools.islice(iter(loader()), 10))
    resumed = iter(loader())
    for _ in range(4):
        next(resumed)
    assert list(itertools.islice(resumed, 6)) == batches[4:]
    flat = [i for b in batches for i in b]
    assert flat == _take(ClassBalancedSampler(dataset, seed=5), 20)


def test_ranks_take_disjoint_interleaved_streams(tmp_path, monkeypatch):
    dataset, _ = _skewed(tmp_path, num=50)
    full = _take(ClassBalancedSampler(dataset, seed=2), 40)
    for rank in range(2):
        monkeypatch.setattr(
            'mmengine.dataset.sampler.get_dist_info',
            lambda rank=rank: (rank, 2))
        sampler = ClassBalancedSampler(dataset, seed=2)
        assert _take(sampler, 20) == full[rank::2]


def test_on_uda_dataset_yields_source_indices(tmp_path):
    source, classes = _skewed(tmp_path, num=20, rare=1)
    (tmp_path / 't').mkdir()
    target = FakeLabelled(tmp_path / 't', [[0]] * 60)
    pair = UDADataset(source, target)
    assert len(pair) == 60
    sampler = DATA_SAMPLERS.build(
        dict(type='ClassBalancedSampler'),
        default_args=dict(dataset=pair, seed=1))
    assert isinstance(sampler, ClassBalancedSampler)
    indices = _take(sampler, 100)
    assert max(indices) < 20
    assert indices == _take(ClassBalancedSampler(source, seed=1), 100)
    assert pair[indices[0]]['source'] == dict(idx=indices[0])


def test_min_pixels_drops_specks(tmp_path):
    # image 0 has one pixel of class 1, image 1 has many
    dataset = FakeLabelled(tmp_path, [[0, 1], [0, 1], [0]], pixels={(0, 1): 1})
    sampler = ClassBalancedSampler(dataset, seed=0, min_pixels=2)
    assert [list(c) for c in sampler.image_classes] == [[0], [0, 1], [0]]
    with pytest.raises(ValueError, match='min_pixels'):
        ClassBalancedSampler(dataset, seed=0, min_pixels=0)
    with pytest.raises(ValueError, match='shuffle=False'):
        ClassBalancedSampler(dataset, seed=0, shuffle=False)


def test_missing_stats_name_file_and_converter(tmp_path):
    dataset, _ = _skewed(tmp_path, num=5)
    (tmp_path / 'class_stats.json').unlink()
    with pytest.raises(DataRootError) as err:
        ClassBalancedSampler(dataset, seed=0)
    assert str(tmp_path / 'class_stats.json') in str(err.value)
    assert f'python tools/dataset_converters/fake.py {tmp_path}' in str(
        err.value)


def test_image_missing_from_stats_is_named(tmp_path):
    dataset, _ = _skewed(tmp_path, num=5)
    dataset.paths.append(f'{tmp_path}/labels/extra_labelTrainIds.png')
    with pytest.raises(DataRootError, match='extra_labelTrainIds.png'):
        ClassBalancedSampler(dataset, seed=0)


def test_unlabelled_or_classless_data_is_refused(tmp_path):
    dataset = FakeLabelled(tmp_path, [[], []])
    with pytest.raises(ValueError, match='none has any'):
        next(iter(class_balanced_indices([np.array([], int)] * 2, 3, 0)))
    with pytest.raises(ValueError, match='none has any'):
        next(iter(ClassBalancedSampler(dataset, seed=0)))
    dataset.get_data_info = lambda idx: dict(img_path='x.png')
    with pytest.raises(ValueError, match='labelled dataset'):
        ClassBalancedSampler(dataset, seed=0)


def test_resume_replays_resets_and_reshuffles(tmp_path):
    """Counts reset and lists reshuffle mid-run; advancing a fresh sampler
    past the trained draws (what --resume does) still continues exactly."""
    dataset, _ = _skewed(tmp_path, num=12, rare=3)
    full = _take(ClassBalancedSampler(dataset, seed=9, reset_interval=7), 90)
    resumed = iter(ClassBalancedSampler(dataset, seed=9, reset_interval=7))
    for _ in range(41):  # a point between two resets, after list wraps
        next(resumed)
    assert list(itertools.islice(resumed, 49)) == full[41:]
