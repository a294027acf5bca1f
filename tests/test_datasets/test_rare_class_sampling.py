"""Rare-class sampling (METHODS.md 7.3), checked against the rules written
out here: P(c) = softmax((1 - f_c) / T) over the classes with pixels, an
image with > min_pixels pixels of c drawn uniformly, the source pipeline
re-run while the crop has <= min_pixels * min_crop_ratio pixels of c (at
most 10 re-runs, the last unchecked), the target uniform and independent;
sample k a function of (seed, k)."""
import json
import random

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from scipy import stats as scipy_stats
from torch.utils.data import DataLoader

from mmseg_uda.datasets import InfiniteIndexSampler, RareClassSampledUDADataset
from mmseg_uda.datasets.data_root_check import DataRootError

NUM_CLASSES = 4
# chi-square bound: P(statistic > bound) = 1e-4 for a correct sampler
P_FALSE_ALARM = 1e-4


def _write_stats(root, pixels, num_classes=NUM_CLASSES, version=2):
    """pixels: per image {class: count}, as the converter writes them."""
    labels = {
        f'labels/{i:04d}_labelTrainIds.png': {
            str(c): n
            for c, n in sorted(counts.items())
        }
        for i, counts in enumerate(pixels)
    }
    if version == 1:
        stats = labels
    else:
        stats = dict(
            version=2,
            labels={
                k: dict(num_classes=num_classes, pixels=v)
                for k, v in labels.items()
            })
    (root / 'class_stats.json').write_text(json.dumps(stats))


class StubSource:
    """A labelled dataset whose 'pipeline' draws from the global generators
    as MMSeg's transforms do, and returns a label with a scripted number of
    pixels of each class (``crop_pixels(index, run, draw) -> {c: n}``,
    ``run`` counting this stub's calls for the image, ``draw`` its random
    "crop"). Every call is recorded as (index, draws)."""

    converter_script = 'stub.py'

    def __init__(self, root, pixels, crop_pixels=None):
        self.data_root = str(root)
        self.metainfo = dict(
            classes=tuple(f'c{i}' for i in range(NUM_CLASSES)))
        self.num = len(pixels)
        self.crop_pixels = crop_pixels or (lambda index, run, draw: {})
        self.runs = {}
        self.calls = []
        _write_stats(root, pixels)

    def __len__(self):
        return self.num

    def get_data_info(self, idx):
        name = f'{idx:04d}_labelTrainIds.png'
        return dict(seg_map_path=f'{self.data_root}/labels/{name}')

    def __getitem__(self, idx):
        run = self.runs.get(idx, 0)
        self.runs[idx] = run + 1
        # what a random crop and flip would draw
        draws = (np.random.randint(1 << 30), random.random(),
                 float(torch.rand(())))
        self.calls.append((idx, draws))
        label = np.full(128 * 128, 255, np.uint8)
        start = 0
        for c, n in self.crop_pixels(idx, run, draws[0]).items():
            label[start:start + n] = c
            start += n
        label = torch.from_numpy(label).view(1, 128, 128)
        sample = SegDataSample(gt_sem_seg=PixelData(data=label))
        sample.set_metainfo(dict(index=idx, run=run, draws=draws))
        return dict(inputs=torch.zeros(3, 2, 2), data_samples=sample)


class StubTarget:
    metainfo = dict(classes=tuple(f'c{i}' for i in range(NUM_CLASSES)))

    def __init__(self, num=7):
        self.num = num

    def __len__(self):
        return self.num

    def __getitem__(self, idx):
        sample = SegDataSample()
        sample.set_metainfo(dict(index=idx, draws=np.random.randint(1 << 30)))
        return dict(inputs=torch.zeros(3, 2, 2), data_samples=sample)


# Dataset pixel totals 6e5 / 3e5 / 7.5e4 / 2.5e4 (f = .6, .3, .075, .025);
# image 3 has exactly 3000 pixels of class 2 (not > 3000).
PIXELS = [
    {0: 300000, 1: 100000, 3: 10000},
    {0: 300000, 1: 200000, 2: 40000, 3: 5000},
    {2: 32000, 3: 3001},
    {2: 3000, 3: 6999},
]


def _expected_probabilities(pixels, temperature):
    """softmax((1 - f) / T) over the classes with pixels, in class order."""
    totals = {}
    for counts in pixels:
        for c, n in counts.items():
            totals[c] = totals.get(c, 0) + n
    classes = sorted(totals)
    f = np.array([totals[c] for c in classes], float) / sum(totals.values())
    e = np.exp((1 - f) / temperature)
    return classes, e / e.sum()


def _always_shows_class(index, run, draw):
    return {c: 2000 for c in range(NUM_CLASSES)}  # > 1500 of each


def _dataset(tmp_path, pixels=PIXELS, crop_pixels=_always_shows_class,
             **kwargs):
    kwargs.setdefault('seed', 3)
    return RareClassSampledUDADataset(
        StubSource(tmp_path, pixels, crop_pixels), StubTarget(), **kwargs)


def _chi_square_ok(observed, expected_probabilities):
    observed = np.asarray(observed, float)
    expected = np.asarray(expected_probabilities) * observed.sum()
    statistic = ((observed - expected)**2 / expected).sum()
    bound = scipy_stats.chi2.isf(P_FALSE_ALARM, len(observed) - 1)
    return statistic, bound


def test_class_probabilities_and_order(tmp_path):
    dataset = _dataset(tmp_path, class_temperature=0.1)
    classes, want = _expected_probabilities(PIXELS, 0.1)
    # listed by ascending total pixels: 3 (25k), 2 (75k), 1 (300k), 0
    assert dataset.classes.tolist() == [3, 2, 1, 0]
    got = dict(zip(dataset.classes.tolist(), dataset.probabilities))
    np.testing.assert_allclose([got[c] for c in classes], want, rtol=1e-12)


def test_seeded_class_frequencies_match_softmax(tmp_path):
    temperature = 0.1
    dataset = _dataset(tmp_path, class_temperature=temperature)
    n = 3000
    drawn = [dataset[k]['source']['data_samples'].rcs_class for k in range(n)]
    classes, want = _expected_probabilities(PIXELS, temperature)
    observed = [drawn.count(c) for c in classes]
    statistic, bound = _chi_square_ok(observed, want)
    assert statistic < bound, (observed, want * n)
    # T = 0.01 (the default): the frequent class is (almost) never drawn
    dataset = _dataset(tmp_path)
    drawn = [
        dataset[k]['source']['data_samples'].rcs_class for k in range(1000)
    ]
    _, want = _expected_probabilities(PIXELS, 0.01)
    assert want[0] < 1e-20 and 0 not in drawn


def test_images_drawn_uniformly_among_those_with_more_than_min_pixels(
        tmp_path):
    dataset = _dataset(tmp_path, class_temperature=1.0)
    by_class = {c: [] for c in range(NUM_CLASSES)}
    for k in range(2000):
        sample = dataset[k]['source']['data_samples']
        by_class[sample.rcs_class].append(sample.index)
    # strictly more than 3000 full-resolution pixels
    eligible = {0: [0, 1], 1: [0, 1], 2: [1, 2], 3: [0, 1, 2, 3]}
    for c, images in eligible.items():
        assert sorted(set(by_class[c])) == images, c
        observed = [by_class[c].count(i) for i in images]
        statistic, bound = _chi_square_ok(observed,
                                          [1 / len(images)] * len(images))
        assert statistic < bound, (c, observed)
    # image 3 has exactly 6999 pixels of class 3: not eligible at 6999
    dataset = _dataset(tmp_path, class_temperature=1.0, min_pixels=6999)
    drawn = set()
    for k in range(200):
        sample = dataset[k]['source']['data_samples']
        if sample.rcs_class == 3:
            drawn.add(sample.index)
    assert drawn == {0}


def _scripted(counts_per_run, c=3):
    """Crop pixels of class c on successive runs of the pipeline."""
    return lambda index, run, draw: {
        c: counts_per_run[min(run, len(counts_per_run) - 1)]
    }


@pytest.mark.parametrize(
    'counts,ratio,runs',
    [
        ([1501], 0.5, 1),  # > 1500: accepted at once
        ([1500, 0, 1501], 0.5, 3),  # <= 1500 twice, then accepted
        ([0] * 20, 0.5, 11),  # 10 re-runs, the 11th result unchecked
        ([6000] * 3 + [6001], 2.0, 4),  # HRDA: 6000 is not enough
        ([0], 0.0, 1),  # min_crop_ratio 0: no check
    ])
def test_crop_redraw_rule(tmp_path, counts, ratio, runs):
    # only class 3 has images here, so it is always the drawn class
    pixels = [{3: 5000}, {3: 4000}]
    dataset = _dataset(
        tmp_path, pixels, _scripted(counts), min_crop_ratio=ratio)
    source = dataset[0]['source']['data_samples']
    assert source.rcs_class == 3
    assert source.rcs_pipeline_runs == runs
    # the accepted sample is the last run, of the same image every time
    assert source.run == runs - 1
    calls = dataset.source.calls
    assert [index for index, _ in calls] == [source.index] * runs
    # each re-run draws a new crop (its own seed)
    assert len({draws for _, draws in calls}) == runs


def test_redraws_can_be_turned_down(tmp_path):
    dataset = _dataset(
        tmp_path, [{3: 5000}], _scripted([0]), max_crop_redraws=2)
    assert dataset[0]['source']['data_samples'].rcs_pipeline_runs == 3


def test_target_uniform_and_independent_of_the_source(tmp_path):
    dataset = _dataset(tmp_path, class_temperature=1.0)
    num_targets = len(dataset.target)
    pairs = []
    for k in range(2000):
        sample = dataset[k]
        pairs.append((sample['source']['data_samples'].rcs_class,
                      sample['target']['data_samples'].index))
    targets = [t for _, t in pairs]
    statistic, bound = _chi_square_ok(
        [targets.count(t) for t in range(num_targets)],
        [1 / num_targets] * num_targets)
    assert statistic < bound
    # contingency table class x target: independence
    table = np.zeros((NUM_CLASSES, num_targets))
    for c, t in pairs:
        table[c, t] += 1
    table = table[table.sum(1) > 0]
    _, p_value, _, _ = scipy_stats.chi2_contingency(table)
    assert p_value > P_FALSE_ALARM


def test_sample_is_a_function_of_seed_and_index(tmp_path):
    """What --resume needs: a fresh dataset (a restarted process) gives the
    same samples from index k on, whatever was drawn before and whatever
    the global generators hold."""

    def key(sample):
        s, t = sample['source']['data_samples'], sample['target'][
            'data_samples']
        return (s.rcs_class, s.index, s.rcs_pipeline_runs, s.draws, t.index,
                t.draws)

    def redraws(index, run, draw):  # a third of the crops show the class
        return {c: 2000 if draw % 3 == 0 else 0 for c in range(NUM_CLASSES)}

    first = _dataset(tmp_path, crop_pixels=redraws)
    uninterrupted = [key(first[k]) for k in range(30)]
    np.random.seed(123)
    random.seed(5)
    torch.manual_seed(9)
    restarted = _dataset(tmp_path, crop_pixels=redraws)
    assert [key(restarted[k]) for k in range(17, 30)] == uninterrupted[17:]
    # the pipeline's own draws differ between samples
    assert len({k[3] for k in uninterrupted}) == 30
    other_seed = _dataset(tmp_path, crop_pixels=redraws, seed=4)
    assert [key(other_seed[k]) for k in range(30)] != uninterrupted


def test_global_generators_left_as_they_were(tmp_path):
    dataset = _dataset(tmp_path)
    np.random.seed(1)
    random.seed(2)
    torch.manual_seed(3)
    want = (np.random.rand(), random.random(), float(torch.rand(())))
    np.random.seed(1)
    random.seed(2)
    torch.manual_seed(3)
    dataset[5]
    assert (np.random.rand(), random.random(), float(torch.rand(()))) == want


def _collate(batch):
    return batch


@pytest.mark.parametrize('workers', [0, 2])
def test_loader_with_index_sampler_resumes_exactly(tmp_path, workers):
    """The data loader as training uses it: InfiniteIndexSampler hands the
    seed over; skipping k batches (MMEngine's --resume) then continuing
    equals the uninterrupted run, with any number of workers."""

    def run(skip, count, num_workers):
        dataset = _dataset(tmp_path, seed=None)
        sampler = InfiniteIndexSampler(dataset, seed=11)
        assert dataset.seed == 11
        loader = DataLoader(
            dataset,
            batch_size=2,
            sampler=sampler,
            num_workers=num_workers,
            collate_fn=_collate)
        batches = iter(loader)
        for _ in range(skip):
            next(batches)
        return [[(s['source']['data_samples'].index,
                  s['source']['data_samples'].draws,
                  s['target']['data_samples'].draws) for s in next(batches)]
                for _ in range(count)]

    uninterrupted = run(0, 6, 0)
    assert run(4, 2, workers) == uninterrupted[4:]


def test_index_sampler_splits_the_stream_between_ranks(monkeypatch):
    import mmseg_uda.datasets.samplers.infinite_index_sampler as module

    streams = []
    for rank in range(3):
        monkeypatch.setattr(module, 'get_dist_info', lambda r=rank: (r, 3))
        sampler = InfiniteIndexSampler(list(range(5)), seed=0)
        it = iter(sampler)
        streams.append([next(it) for _ in range(4)])
        assert len(sampler) == 5
    assert streams == [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8, 11]]
    with pytest.raises(ValueError, match='shuffle'):
        InfiniteIndexSampler(list(range(5)), shuffle=False)


def test_ranks_draw_different_samples(tmp_path):
    dataset = _dataset(tmp_path)
    rank0 = [dataset[k]['source']['data_samples'].draws for k in (0, 2, 4)]
    rank1 = [dataset[k]['source']['data_samples'].draws for k in (1, 3, 5)]
    assert not set(rank0) & set(rank1)


def test_length_is_not_the_product(tmp_path):
    dataset = _dataset(tmp_path)
    assert len(dataset) == len(PIXELS)
    # indices beyond the length are new samples, not repeats
    assert dataset[len(dataset)]['source']['data_samples'].draws != dataset[
        0]['source']['data_samples'].draws


def test_without_seed_names_the_sampler(tmp_path):
    dataset = _dataset(tmp_path, seed=None)
    with pytest.raises(RuntimeError, match='InfiniteIndexSampler'):
        dataset[0]


def test_missing_statistics_name_file_and_converter(tmp_path):
    source = StubSource(tmp_path, PIXELS)
    (tmp_path / 'class_stats.json').unlink()
    with pytest.raises(DataRootError) as err:
        RareClassSampledUDADataset(source, StubTarget(), seed=0)
    assert str(tmp_path / 'class_stats.json') in str(err.value)
    assert 'tools/dataset_converters/stub.py' in str(err.value)


def test_statistics_of_another_class_count(tmp_path):
    source = StubSource(tmp_path, PIXELS)
    _write_stats(tmp_path, PIXELS, num_classes=19)
    with pytest.raises(DataRootError) as err:
        RareClassSampledUDADataset(source, StubTarget(), seed=0)
    message = str(err.value)
    assert str(tmp_path / 'class_stats.json') in message
    assert '[19] classes' in message and f'has {NUM_CLASSES} classes' in (
        message)


def test_statistics_with_ids_outside_the_classes(tmp_path):
    source = StubSource(tmp_path, PIXELS)
    _write_stats(tmp_path, PIXELS + [{7: 5000}])
    source.num += 1
    with pytest.raises(DataRootError, match='outside the 4 classes'):
        RareClassSampledUDADataset(source, StubTarget(), seed=0)


def test_version_1_statistics_ask_for_a_reconversion(tmp_path):
    source = StubSource(tmp_path, PIXELS)
    _write_stats(tmp_path, PIXELS, version=1)
    with pytest.raises(DataRootError) as err:
        RareClassSampledUDADataset(source, StubTarget(), seed=0)
    assert 'version 1' in str(err.value)
    assert 'tools/dataset_converters/stub.py' in str(err.value)


def test_class_without_an_eligible_image(tmp_path):
    with pytest.raises(DataRootError, match=r'\[2\].*3000'):
        _dataset(tmp_path, [{0: 5000, 2: 3000}])


def test_source_pipeline_without_labels(tmp_path):
    class Unlabelled(StubSource):

        def __getitem__(self, idx):
            sample = super().__getitem__(idx)
            del sample['data_samples'].gt_sem_seg
            return sample

    source = Unlabelled(tmp_path, PIXELS)
    dataset = RareClassSampledUDADataset(source, StubTarget(), seed=0)
    with pytest.raises(KeyError, match='LoadAnnotations'):
        dataset[0]


def test_bad_temperature(tmp_path):
    with pytest.raises(ValueError, match='class_temperature'):
        _dataset(tmp_path, class_temperature=0)
