"""Top-level config keys that nothing reads (a misspelled ``lod_from``) get a
warning; every config of the repository gets none."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from mmseg_uda.utils.config_keys import (find_unread_config_keys,
                                         warn_unread_config_keys)

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
DEMO = osp.join(REPO, 'configs', 'demo', 'maxsquare.py')


def write_config(tmp_path, body):
    path = tmp_path / 'my_config.py'
    path.write_text(f'_base_ = [{DEMO!r}]\n' + body)
    return Config.fromfile(str(path))


def test_misspelled_key_is_named_with_a_suggestion(tmp_path):
    cfg = write_config(tmp_path, "lod_from = 'work_dirs/x/iter_10.pth'\n")
    messages = warn_unread_config_keys(cfg)
    assert len(messages) == 1
    assert "'lod_from'" in messages[0] and 'my_config.py' in messages[0]
    assert "did you mean 'load_from'?" in messages[0]


def test_helper_variables_used_in_the_file_are_fine(tmp_path):
    cfg = write_config(
        tmp_path, 'iters = 7\n'
        'train_cfg = dict(max_iters=iters)\n'
        "load_from = None\n")
    assert find_unread_config_keys(cfg) == []


def test_overriding_a_base_helper_without_using_it_is_reported(tmp_path):
    # demo_lr is used by the base's optim_wrapper, which is computed already
    cfg = write_config(tmp_path, 'demo_lr = 1.0\n')
    assert find_unread_config_keys(cfg) == [('demo_lr',
                                             str(tmp_path / 'my_config.py'))]
    assert cfg.optim_wrapper.optimizer.lr != 1.0  # indeed no effect


def test_cfg_options_key_is_reported(tmp_path):
    cfg = write_config(tmp_path, '')
    cfg.merge_from_dict({'lod_from': 'x.pth', 'load_from': 'y.pth'})
    assert find_unread_config_keys(cfg) == [('lod_from', '--cfg-options')]


def test_extra_keys_are_accepted(tmp_path):
    cfg = write_config(tmp_path, 'my_tool_setting = 3\n')
    assert find_unread_config_keys(cfg, extra_keys=('my_tool_setting', )) \
        == []


@pytest.mark.parametrize('config', sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                         recursive=True)
    if '_base_' not in p and not osp.basename(p).startswith('_')))
def test_repository_configs_read_every_key_and_have_the_safety_hooks(
        config):
    cfg = Config.fromfile(config)
    assert find_unread_config_keys(cfg) == []
    # README "Multi-GPU training and run safety": inherited by every config
    hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
    for hook in ('ClassCountCheckHook', 'NonFiniteLossHook',
                 'AverageBuffersHook', 'IterationSeedHook'):
        assert hook in hooks, config
