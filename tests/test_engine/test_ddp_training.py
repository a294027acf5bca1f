"""Two-process CPU (gloo) DDP training through mmengine's default wrapper
path: the ranks must end with identical parameters that differ from the
start (the UDA step must not depend on a custom train_step, which
MMDistributedDataParallel never calls), and with identical buffers (BN
running statistics, averaged by AverageBuffersHook before the save); a NaN
loss on one rank skips the step on both; DACS's teacher (outside DDP's
parameters) stays identical on both ranks, also with MIC stacked on DACS."""
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_ddp(config, work_dir, options, nproc=2, output=None):
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
    if output is not None:
        output.append(proc.stdout + proc.stderr)
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
    check_buffers(ranks, tmp_path / 'iter_3.pth')


def check_buffers(ranks, checkpoint):
    """Ranks' BN statistics differed before the averaging, are their mean
    after it, on both ranks and in the saved checkpoint."""
    unsynced = [r['unsynced_buffers'] for r in ranks]
    end = ranks[0]['end_buffers']
    differed = [n for n in end
                if not torch.equal(unsynced[0][n], unsynced[1][n])]
    assert any('running_mean' in n for n in differed)
    saved = torch.load(checkpoint, map_location='cpu',
                       weights_only=False)['state_dict']
    for name in end:
        torch.testing.assert_close(ranks[1]['end_buffers'][name], end[name],
                                   rtol=0, atol=0, msg=name)
        if name in saved:  # not the non-persistent normalisation buffers
            torch.testing.assert_close(saved[name], end[name], rtol=0,
                                       atol=0, msg=name)
        else:
            assert name.startswith('data_preprocessor.'), name
        if end[name].is_floating_point():
            mean = (unsynced[0][name] + unsynced[1][name]) / 2
            torch.testing.assert_close(end[name], mean, msg=name)
        else:  # num_batches_tracked: equal anyway, taken from rank 0
            assert torch.equal(unsynced[1][name], unsynced[0][name])
            assert torch.equal(end[name], unsynced[0][name])


@pytest.mark.parametrize('config', ['dacs', 'mic'])
def test_dacs_ddp_two_cpu_processes_keep_the_teacher_identical(
        demo_data, tmp_path, config):
    # mic: DACS + MIC, whose mixed loss is back-propagated inside DDP's
    # forward (before the masked batch) and all-reduced with the final one
    options = demo_data.options(config) + [
        'train_cfg.max_iters=3', 'train_cfg.val_interval=100',
        'param_scheduler.0.end=3',
        'train_dataloader.dataset.source.pipeline.4.crop_size=(64,64)',
        'train_dataloader.dataset.target.pipeline.2.crop_size=(64,64)'
    ]
    ranks = run_ddp(f'configs/demo/{config}.py', tmp_path, options)
    start, end = ranks[0]['start'], ranks[0]['end']
    teacher = [n for n in end if n.startswith('uda_terms.0.teacher.')]
    assert teacher and 'uda_terms.0.teacher.backbone.conv1.weight' in teacher
    for name in end:  # student and teacher parameters
        torch.testing.assert_close(ranks[1]['end'][name], end[name],
                                   rtol=0, atol=0, msg=name)
    # the teacher follows every trained student tensor (an average, not
    # its start; frozen ones, e.g. the BN affine parameters, stay)
    prefix = len('uda_terms.0.teacher.')
    trained = [n for n in teacher
               if not torch.equal(end[n[prefix:]], start[n[prefix:]])]
    assert {'uda_terms.0.teacher.backbone.conv1.weight',
            'uda_terms.0.teacher.decode_head.aspp_convs.0.weight'
            } <= set(trained)
    assert all(not torch.equal(end[n], start[n]) for n in trained)
    saved = torch.load(tmp_path / 'iter_3.pth', map_location='cpu',
                       weights_only=False)['state_dict']
    assert int(saved['uda_terms.0.teacher._extra_state']) == 3
    for name in teacher:
        assert torch.equal(saved[name], end[name]), name
    # teacher BN statistics (target batches differ per rank) are averaged
    # like the student's
    assert any(n.startswith('uda_terms.0.teacher.') and 'running_mean' in n
               for n in ranks[0]['end_buffers'])
    check_buffers(ranks, tmp_path / 'iter_3.pth')


def test_nan_on_one_rank_skips_the_step_on_both(demo_data, tmp_path):
    options = demo_data.options('maxsquare') + [
        'train_cfg.max_iters=3', 'train_cfg.val_interval=100',
        'param_scheduler.0.end=100',  # lr > 0 in iteration 3
        'custom_hooks.1.action=skip', 'nan_at=1:2'
    ]
    output = []
    ranks = run_ddp('configs/demo/maxsquare.py', tmp_path, options,
                    output=output)
    for rank in ranks:
        per_iter = rank['per_iter']
        for kind in ('params', 'buffers'):
            for name, value in per_iter[2][kind].items():
                # iteration 2 changed nothing, on either rank
                assert torch.equal(value, per_iter[1][kind][name]), name
        # and training went on (no rank left waiting in a collective)
        head = 'decode_head.aspp_convs.0.weight'
        assert not torch.equal(per_iter[3]['params'][head],
                               per_iter[2]['params'][head])
    for name, value in ranks[0]['end'].items():
        assert torch.equal(ranks[1]['end'][name], value), name
    assert 'step skipped' in output[0] and 'rank 1: ' in output[0]
    check_buffers(ranks, tmp_path / 'iter_3.pth')
