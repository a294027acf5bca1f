"""tools/dist_train.sh, tools/train.py --resume and tools/test.py end to
end on generated data in the real GTA5/Cityscapes layouts (the demo
configs: the real configs shrunk to a tiny network)."""
import json
import os
import os.path as osp
import re
import socket
import subprocess
import sys

import torch

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def run(cmd, **kwargs):
    # PORT: tools/dist_train.sh's rendezvous port, free so runs can overlap
    env = dict(os.environ, OMP_NUM_THREADS='1', PORT=free_port(),
               PATH=osp.dirname(sys.executable) + os.pathsep +
               os.environ['PATH'])
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600, **kwargs)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout + proc.stderr


def test_dist_train_then_test_prints_the_class_table(demo_data, tmp_path):
    work = tmp_path / 'work'
    log = run(['bash', 'tools/dist_train.sh', 'configs/demo/maxsquare.py',
               '1', '--work-dir', str(work), '--cfg-options'] +
              demo_data.options('maxsquare') +
              ['train_cfg.max_iters=2', 'train_cfg.val_interval=2',
               'default_hooks.logger.interval=1'])
    assert 'tgt.loss_max_square' in log  # the target term ran
    assert 'Iter(val)' in log and 'mIoU' in log  # validated
    ckpt = work / 'iter_2.pth'
    assert ckpt.is_file()
    metrics_file = tmp_path / 'metrics.json'
    out = run([sys.executable, 'tools/test.py', 'configs/demo/maxsquare.py',
               str(ckpt), '--work-dir', str(work), '--save-metrics',
               str(metrics_file), '--cfg-options'] +
              demo_data.options('maxsquare'))
    assert 'Evaluation convention: labels at full resolution' in out
    for name in ('road', 'building', 'sky', 'car'):
        assert re.search(rf'\|\s+{name}\s+\|\s+[\d.]+\s+\|', out), name
    metrics = json.loads(metrics_file.read_text())
    assert 0.0 <= metrics['mIoU'] <= 100.0


def test_resume_continues_like_an_uninterrupted_run(demo_data, tmp_path):
    base = [sys.executable, 'tools/train.py', 'configs/demo/maxsquare_iw.py',
            '--cfg-options'] + demo_data.options('maxsquare') + [
                'train_cfg.val_interval=100', 'param_scheduler.0.end=4',
                'default_hooks.checkpoint.interval=2'
            ]
    run(base + ['train_cfg.max_iters=4', f'work_dir={tmp_path / "full"}'])
    run(base + ['train_cfg.max_iters=2', f'work_dir={tmp_path / "part"}'])
    log = run(base + ['train_cfg.max_iters=4',
                      f'work_dir={tmp_path / "part"}', '--resume'])
    assert 'resumed' in log.lower()
    full = torch.load(tmp_path / 'full' / 'iter_4.pth', weights_only=False)
    part = torch.load(tmp_path / 'part' / 'iter_4.pth', weights_only=False)
    assert full['meta']['iter'] == part['meta']['iter'] == 4
    for key, value in full['state_dict'].items():
        torch.testing.assert_close(part['state_dict'][key], value,
                                   msg=lambda m: f'{key}: {m}')


def test_test_tool_tta_averages_flips_and_says_so(demo_data, tmp_path):
    work = tmp_path / 'work'
    run([sys.executable, 'tools/train.py', 'configs/demo/source_only.py',
         '--work-dir', str(work), '--cfg-options'] +
        demo_data.options('source_only') +
        ['train_cfg.max_iters=1', 'train_cfg.val_interval=10'])
    out = run([sys.executable, 'tools/test.py', 'configs/demo/source_only.py',
               str(work / 'iter_1.pth'), '--tta', '--cfg-options'] +
              demo_data.options('source_only'))
    assert 'flip averaging: on' in out
    assert re.search(r'\|\s+sky\s+\|\s+[\d.]+\s+\|', out)
