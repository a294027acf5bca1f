"""The CAG-UDA chain on the demo data through the tools: warm-up ->
stage 1 (anchors and frozen model built at stage start, saved, never
rebuilt by --resume; --resume equals an uninterrupted run, decoder
dropout included) -> stage 2
(rebuilt from stage 1), tools/test.py on the result; 2-process CPU DDP
keeps every rank's state identical."""
import os
import os.path as osp
import re
import socket
import subprocess
import sys

import pytest
import torch

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
NO_VAL = ['val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
          'default_hooks.logger.interval=1']


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run(cmd, ok=True):
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PORT=str(free_port()),
        PATH=osp.dirname(sys.executable) + os.pathsep + os.environ['PATH'])
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert (proc.returncode == 0) == ok, out[-6000:]
    return out


def options(demo_data, stage, load_from=None, iters=2):
    opts = demo_data.options('cag') + NO_VAL + [
        f'train_cfg.max_iters={iters}', 'train_dataloader.num_workers=0'
    ]
    if stage:
        # After the default run-safety hooks (configs/_base_/default_runtime).
        from mmengine.config import Config
        hooks = Config.fromfile(
            osp.join(REPO, 'configs/demo/cag_stage1.py')).custom_hooks
        index = [h.type for h in hooks].index('CategoryAnchorHook')
        opts += [
            f'custom_hooks.{index}.anchor_dataloader.dataset.data_root='
            f'{demo_data.gta5}'
        ]
    if load_from:
        opts = [o for o in opts if not o.startswith('load_from')]
        opts.append(f'load_from={load_from}')
    return opts


def train(config, work_dir, opts, resume=False, ok=True):
    cmd = ['bash', 'tools/dist_train.sh', f'configs/demo/{config}.py', '1',
           '--work-dir', str(work_dir)] + (['--resume'] if resume else [])
    return run(cmd + ['--cfg-options'] + opts, ok=ok)


def load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


@pytest.fixture(scope='module')
def warmup(demo_data, tmp_path_factory):
    work = tmp_path_factory.mktemp('cag_warmup')
    log = train('cag_warmup', work, options(demo_data, 0))
    assert 'tgt.loss_adv' in log and 'tgt.loss_disc' in log
    return work / 'iter_2.pth'


def test_chain_resume_and_test(demo_data, warmup, tmp_path):
    opts = options(demo_data, 1, warmup)
    part, full = tmp_path / 'part', tmp_path / 'full'
    log = train('cag_stage1', part, opts)
    assert 'computing anchors' in log and 'tgt.loss_ce_anchor' in log
    assert 'src.loss_dis' in log and 'tgt.loss_dis' in log
    anchor_file = load(part / 'anchors.pth')
    first = load(part / 'iter_2.pth')['state_dict']
    torch.testing.assert_close(first['uda_terms.0.anchors'],
                               anchor_file['anchors'])
    assert torch.equal(first['uda_terms.0.anchor_counts'],
                       anchor_file['counts'])
    # the frozen model is the warm-up's network, untouched by 2 iterations
    start = load(warmup)['state_dict']
    for key, value in first.items():
        if key.startswith('uda_terms.0.frozen_model.'):
            name = key[len('uda_terms.0.frozen_model.'):]
            assert torch.equal(value, start[name]), key
    # mmengine resumes from load_from when one is set: clear it to resume
    # from the work dir's last checkpoint.
    resume_opts = [o.replace('max_iters=2', 'max_iters=4') for o in opts
                   if not o.startswith('load_from')] + ['load_from=None']
    log = train('cag_stage1', part, resume_opts, resume=True)
    assert 'not recomputed' in log and 'computing anchors' not in log
    train('cag_stage1', full, [o.replace('max_iters=2', 'max_iters=4')
                               for o in opts])
    resumed = load(part / 'iter_4.pth')['state_dict']
    uninterrupted = load(full / 'iter_4.pth')['state_dict']
    assert set(resumed) == set(uninterrupted)
    for key, value in uninterrupted.items():
        torch.testing.assert_close(resumed[key], value,
                                   msg=lambda m: f'{key}: {m}')
    for key in first:  # anchors and frozen model intact after the resume
        if key.startswith('uda_terms.0.frozen_model.') or 'anchor' in key:
            assert torch.equal(resumed[key], first[key]), key

    # stage 2 from stage 1: rebuilt anchors and frozen model, then test.py
    stage2 = tmp_path / 'stage2'
    log = train('cag_stage2', stage2, options(demo_data, 2,
                                              part / 'iter_4.pth'))
    assert 'CAG stage 2' in log
    state2 = load(stage2 / 'iter_2.pth')['state_dict']
    assert int(state2['uda_terms.0.stage']) == 2
    for key, value in state2.items():
        if key.startswith('uda_terms.0.frozen_model.'):
            name = key[len('uda_terms.0.frozen_model.'):]
            assert torch.equal(value, resumed[name]), key
    out = run([sys.executable, 'tools/test.py', 'configs/demo/cag_stage2.py',
               str(stage2 / 'iter_2.pth'), '--work-dir', str(stage2),
               '--cfg-options'] + demo_data.options('cag'))
    assert re.search(r'\|\s+road\s+\|', out) and 'mIoU' in out


def test_ddp_ranks_identical(demo_data, warmup, tmp_path):
    opts = options(demo_data, 1, warmup)
    cmd = [
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
        f'--master_port={free_port()}',
        osp.join(REPO, 'tests', 'test_engine', 'cag_ddp_worker.py'),
        'configs/demo/cag_stage1.py', str(tmp_path)
    ] + opts
    run(cmd)
    ranks = [torch.load(tmp_path / f'state{r}.pt') for r in range(2)]
    assert any(k.startswith('uda_terms.0.frozen_model.') for k in ranks[0])
    assert (ranks[0]['uda_terms.0.anchor_counts'] > 0).any()
    for key, value in ranks[0].items():
        # Plain BN (the CPU demo) keeps rank-local running statistics after
        # the last forward (DDP broadcasts buffers before each forward);
        # SyncBN on GPUs keeps them equal. Everything else must agree: the
        # trained parameters, anchors, stage and the frozen model.
        if not key.startswith('uda_terms.') and (
                'running_' in key or 'num_batches_tracked' in key):
            continue
        torch.testing.assert_close(ranks[1][key], value,
                                   msg=lambda m: f'{key}: {m}')
