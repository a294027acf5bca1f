"""FADA end to end with the tools: tools/dist_train.sh trains
configs/demo/fada.py (the real FADA config shrunk), --resume continues to
the same model, discriminator and optimiser states as an uninterrupted run,
and tools/test.py evaluates the checkpoint."""
import json
import os
import os.path as osp
import re
import socket
import subprocess
import sys

import torch

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CONFIG = 'configs/demo/fada.py'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run(cmd):
    # A free port: other runs of dist_train.sh may hold the default 29500.
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PORT=str(free_port()),
        PATH=osp.dirname(sys.executable) + os.pathsep + os.environ['PATH'])
    proc = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout + proc.stderr


def load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


def test_dist_train_resume_and_test(demo_data, tmp_path):
    options = ['--cfg-options'] + demo_data.options('fada')
    # Validation is left to tools/test.py below.
    no_val = [
        'default_hooks.logger.interval=1', 'val_cfg=None',
        'val_dataloader=None', 'val_evaluator=None'
    ]
    dist = ['bash', 'tools/dist_train.sh', CONFIG, '1']
    part, full = tmp_path / 'part', tmp_path / 'full'
    log = run(dist + ['--work-dir', str(part)] + options + no_val +
              ['train_cfg.max_iters=2'])
    for key in ('tgt.loss_adv', 'tgt.loss_disc', 'segmentor.lr',
                'discriminator.lr'):
        assert key in log
    log = run(dist + ['--work-dir', str(part), '--resume'] + options + no_val +
              ['train_cfg.max_iters=4'])
    assert 'resumed' in log.lower()
    run([sys.executable, 'tools/train.py', CONFIG, '--work-dir',
         str(full)] + options + no_val + ['train_cfg.max_iters=4'])

    resumed, uninterrupted = load(part / 'iter_4.pth'), load(full /
                                                             'iter_4.pth')
    assert resumed['meta']['iter'] == uninterrupted['meta']['iter'] == 4
    state = uninterrupted['state_dict']
    assert any(k.startswith('uda_terms.0.discriminator.') for k in state)
    for key, value in state.items():
        torch.testing.assert_close(
            resumed['state_dict'][key], value, msg=lambda m: f'{key}: {m}')
    # Both optimisers' states are saved and were restored: SGD momentum
    # buffers and Adam moments after 4 steps agree.
    assert set(uninterrupted['optimizer']) == {'segmentor', 'discriminator'}
    for name in ('segmentor', 'discriminator'):
        ref = uninterrupted['optimizer'][name]['state']
        got = resumed['optimizer'][name]['state']
        assert ref and set(got) == set(ref)
        for idx, slots in ref.items():
            for slot, value in slots.items():
                torch.testing.assert_close(
                    got[idx][slot], value, msg=lambda m: f'{name}.{slot}')
    assert uninterrupted['optimizer']['discriminator']['state'][0]['step'] == 4
    assert set(
        uninterrupted['param_schedulers']) == {'segmentor', 'discriminator'}

    metrics_file = tmp_path / 'metrics.json'
    out = run([
        sys.executable, 'tools/test.py', CONFIG,
        str(part / 'iter_4.pth'), '--work-dir',
        str(part), '--save-metrics',
        str(metrics_file)
    ] + options)
    assert re.search(r'\|\s+road\s+\|', out) and 'mIoU' in out
    assert 0.0 <= json.loads(metrics_file.read_text())['mIoU'] <= 100.0


def test_amp_switch_covers_both_optimisers(monkeypatch):
    # `--amp` (mmseg_uda.utils.launch.enable_amp) needs CUDA; pretend to
    # have a bfloat16-capable GPU to check what it does to the FADA config.
    from mmengine.config import Config

    from mmseg_uda.utils.launch import enable_amp
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: True)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 1)
    cfg = Config.fromfile(osp.join(REPO, 'configs/fada/gta2cs.py'))
    enable_amp(cfg)
    wrappers = cfg.optim_wrapper
    assert wrappers.constructor == 'MultiOptimWrapperConstructor'
    for name in ('segmentor', 'discriminator'):
        assert wrappers[name].type == 'AmpOptimWrapper'
        assert wrappers[name].dtype == 'bfloat16'
    assert wrappers.segmentor.optimizer.type == 'SGD'
    assert wrappers.discriminator.optimizer.type == 'Adam'
    assert wrappers.discriminator.modules == ['uda_terms.0.discriminator']
