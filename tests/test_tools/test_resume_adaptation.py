"""tools/train.py --resume of adaptation configs that set load_from
(MaxSquare, FADA, DACS, DACS + MIC): the first --resume (empty work dir)
starts fresh from load_from and says so; the second continues from the
work dir, bit-exactly like an uninterrupted run (DACS: teacher and its
counter t included, not re-copied from the student), whatever load_from
says."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
#: A smaller network than the demo's (1 block per stage, 1/8 channels).
TINY = [
    'model.backbone.stage_blocks=(1,1,1,1)', 'model.backbone.base_channels=8',
    'model.backbone.stem_channels=8', 'model.decode_head.in_channels=256'
]
CASES = {
    'maxsquare': ('configs/demo/maxsquare.py', TINY),
    'fada': ('configs/demo/fada.py',
             TINY + ['model.uda_terms.0.discriminator.in_channels=256']),
    # 32x32 crops of the demo's 320x176 / 256x128 images
    'dacs': ('configs/demo/dacs.py', TINY + [
        'train_dataloader.dataset.source.pipeline.4.crop_size=(32,32)',
        'train_dataloader.dataset.target.pipeline.2.crop_size=(32,32)'
    ]),
    # DACS + MIC (its 8-pixel blocks: a 4 x 4 mask grid)
    'mic': ('configs/demo/mic.py', TINY + [
        'train_dataloader.dataset.source.pipeline.4.crop_size=(32,32)',
        'train_dataloader.dataset.target.pipeline.2.crop_size=(32,32)'
    ]),
}


def run(cmd):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout + proc.stderr


def start_checkpoint(config, options, path):
    """Weights to start from, as a source-only run leaves them (no
    discriminator or teacher, no training state)."""
    cfg = Config.fromfile(osp.join(REPO, config))
    for option in options:
        key, value = option.split('=', 1)
        cfg.merge_from_dict({key: eval(value)})
    torch.manual_seed(1)
    model = MODELS.build(cfg.model)
    model.init_weights()
    state = {
        k: v
        for k, v in model.state_dict().items()
        if not k.startswith('uda_terms.')
    }
    torch.save(dict(state_dict=state, meta=dict()), path)
    return state


@pytest.mark.parametrize('method', sorted(CASES))
def test_resume_continues_from_the_work_dir_not_load_from(
        demo_data, tmp_path, method):
    config, tiny = CASES[method]
    start = tmp_path / 'source_only.pth'
    start_checkpoint(config, tiny, start)
    train = [sys.executable, 'tools/train.py', config]
    options = ['--cfg-options'] + demo_data.options(method) + tiny + [
            f'load_from={start}', 'train_cfg.val_interval=100',
            'param_scheduler.0.end=4', 'default_hooks.checkpoint.interval=2',
            'default_hooks.logger.interval=1'
        ]
    run(train + options +
        ['train_cfg.max_iters=4', f'work_dir={tmp_path / "full"}'])
    log = run(train + ['--resume'] + options +
              ['train_cfg.max_iters=2', f'work_dir={tmp_path / "part"}'])
    assert 'holds no checkpoint to resume from' in log
    assert f'FRESH run from load_from={start}' in log
    assert 'Loaded weights from' in log and str(start) in log
    log = run(train + ['--resume'] + options +
              ['train_cfg.max_iters=4', f'work_dir={tmp_path / "part"}'])
    part_dir = tmp_path / 'part'
    assert f'continuing from {part_dir / "iter_2.pth"}' in log
    assert f'load_from={start} is not used' in log
    assert 'resumed epoch: 0, iter: 2' in log
    assert 'Iter(train) [3/4]' in log and 'Iter(train) [4/4]' in log
    full = torch.load(tmp_path / 'full' / 'iter_4.pth', weights_only=False)
    part = torch.load(part_dir / 'iter_4.pth', weights_only=False)
    assert full['meta']['iter'] == part['meta']['iter'] == 4
    assert full['state_dict'].keys() == part['state_dict'].keys()
    for key, value in full['state_dict'].items():
        assert torch.equal(part['state_dict'][key], value), key
    # The optimiser states (FADA: segmentor's and discriminator's) too.
    assert_same(full['optimizer'], part['optimizer'], 'optimizer')
    if method in ('dacs', 'mic'):
        state = part['state_dict']
        assert int(state['uda_terms.0.teacher._extra_state']) == 4
        # the teacher is an average, not a copy of the student
        key = 'decode_head.aspp_convs.0.weight'
        assert not torch.equal(state['uda_terms.0.teacher.' + key],
                               state[key])


def assert_same(a, b, where):
    if torch.is_tensor(a):
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same(a[key], b[key], f'{where}.{key}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f'{where}.{i}')
    else:
        assert a == b, where
