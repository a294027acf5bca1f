"""Two-process CPU (gloo) DDP training through mmengine's default wrapper
path: the ranks must end with identical parameters that differ from the
start (the UDA step must not depend on a custom train_step, which
MMDistributedDataParallel never calls)."""
import os
import os.path as osp
import socket
import subprocess
import sys

import torch

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_ddp(config, work_dir, options, nproc=2):
    cmd = [
        sys.executable, '-m', 'torch.distributed.run',
        f'--nproc_per_node={nproc}', f'--master_port={free_port()}',
        osp.join(REPO, 'tests', 'test_engine', 'ddp_worker.py'), config,
        str(work_dir)
    ] + options
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return [torch.load(work_dir / f'rank{r}.pt') for r in range(nproc)]


def test_maxsquare_ddp_two_cpu_processes(demo_data, tmp_path):
    options = demo_data.options('maxsquare') + [
        'train_cfg.max_iters=3', 'train_cfg.val_interval=100',
        'param_scheduler.0.end=3'
    ]
    ranks = run_ddp('configs/demo/maxsquare.py', tmp_path, options)
    assert ranks[0]['wrapper'] == 'DeviceAwareDistributedDataParallel'
    start, end = ranks[0]['start'], ranks[0]['end']
    # identical starting points (broadcast/same seed) and identical results
    for name in end:
        torch.testing.assert_close(ranks[1]['start'][name], start[name])
        torch.testing.assert_close(ranks[1]['end'][name], end[name],
                                   msg=lambda m: f'{name}: {m}')
    moved = [n for n in end if not torch.equal(end[n], start[n])]
    trainable = [n for n in end if 'aspp_convs.2' not in n
                 and 'aspp_convs.3' not in n and 'backbone.bn1' not in n]
    assert set(moved) == set(trainable)
