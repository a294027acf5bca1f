"""ClassCountCheckHook: a model whose heads predict another number of
classes than a dataset has is refused when the run starts, naming the
config keys (instead of a silent evaluation or an unnamed IndexError)."""
import itertools

import pytest
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import mmseg_uda  # noqa: F401
from mmseg_uda.engine.hooks import ClassCountError
from mmseg_uda.engine.hooks.class_count_check_hook import check_class_counts

_IDS = itertools.count()


def build_runner(demo_data, tmp_path, *options):
    cfg = Config.fromfile('configs/demo/maxsquare.py')
    overrides = {}
    for option in demo_data.options('maxsquare') + list(options):
        key, value = option.split('=', 1)
        overrides[key] = DictAction._parse_iterable(value)
    cfg.merge_from_dict(overrides)
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = f'class_count_{next(_IDS)}'
    return Runner.from_cfg(cfg)


def test_16_class_val_set_under_19_class_model(demo_data, tmp_path):
    runner = build_runner(demo_data, tmp_path,
                          'val_dataloader.dataset.num_classes=16')
    with pytest.raises(ClassCountError) as err:
        runner.train()  # refused in before_run: no step, no checkpoint
    message = str(err.value)
    assert ('model.decode_head.num_classes=19 but val_dataloader.dataset '
            '(CityscapesUDADataset, data_root=') in message
    assert 'has 16 classes' in message
    assert 'train_dataloader' not in message
    assert runner.iter == 0 and not list(tmp_path.glob('*.pth'))


def test_model_with_fewer_classes_than_the_data(demo_data, tmp_path):
    runner = build_runner(demo_data, tmp_path,
                          'model.decode_head.num_classes=16')
    with pytest.raises(ClassCountError) as err:
        runner.train()
    message = str(err.value)
    for key in ('train_dataloader.dataset.source (GTA5Dataset',
                'train_dataloader.dataset.target (CityscapesUDADataset',
                'val_dataloader.dataset (CityscapesUDADataset'):
        assert f'model.decode_head.num_classes=16 but {key}' in message
    assert message.count('has 19 classes') == 3


def test_test_set_is_checked_in_test_runs(demo_data, tmp_path):
    runner = build_runner(demo_data, tmp_path,
                          'test_dataloader.dataset.num_classes=16')
    with pytest.raises(ClassCountError,
                       match=r'num_classes=19 but test_dataloader\.dataset'):
        runner.test()


def test_matching_counts_pass(demo_data, tmp_path):
    runner = build_runner(demo_data, tmp_path)
    runner._test_loop = runner.build_test_loop(runner._test_loop)
    runner._val_loop = runner.build_val_loop(runner._val_loop)
    check_class_counts(runner)  # no error
    types = [type(h).__name__ for h in runner.hooks]
    assert 'ClassCountCheckHook' in types  # from default_runtime.py
