"""tools/train.py and tools/test.py as a careless user runs them: a
diverging run (lr=1e6) stops at its first non-finite loss keeping a finite
checkpoint, a misspelled key is warned about, and a class-count mismatch is
refused naming the config keys."""
import os
import os.path as osp
import re
import subprocess
import sys

import torch

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def run(cmd):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable] + cmd, cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


def test_diverging_run_stops_and_keeps_a_finite_checkpoint(
        demo_data, tmp_path):
    work = tmp_path / 'work'
    code, out = run([
        'tools/train.py', 'configs/demo/source_only.py', '--work-dir',
        str(work), '--cfg-options'
    ] + demo_data.options('source_only') + [
        'optim_wrapper.optimizer.lr=1e6', 'train_cfg.max_iters=30',
        'default_hooks.checkpoint.interval=1', 'lod_from=x.pth'
    ])
    assert code != 0, out
    assert "Config key 'lod_from' (set in --cfg-options) is read by " \
           "nothing and has no effect; did you mean 'load_from'?" in out
    found = re.search(r'NonFiniteLossError: (Non-finite loss|Weights became '
                      r'non-finite[a-z ]*) (at|of) iteration (\d+) \(of 30\)',
                      out)
    assert found, out[-3000:]
    stopped = int(found.group(3))
    assert stopped > 1, out[-3000:]
    saved = sorted(work.glob('iter_*.pth'))
    assert saved and saved[-1].name == f'iter_{stopped - 1}.pth'
    for path in saved:
        state = torch.load(path, map_location='cpu',
                           weights_only=False)['state_dict']
        assert all(torch.isfinite(v).all() for v in state.values()
                   if v.is_floating_point()), path

    # testing it on a 16-class set is refused before anything is evaluated
    code, out = run([
        'tools/test.py', 'configs/demo/source_only.py',
        str(saved[-1]), '--work-dir', str(work), '--cfg-options'
    ] + demo_data.options('source_only') + [
        'test_dataloader.dataset.num_classes=16', 'lod_from=x.pth'
    ])
    assert code != 0
    assert "did you mean 'load_from'?" in out
    assert ('ClassCountError: The model and the data disagree on the number '
            'of classes: model.decode_head.num_classes=19 but '
            'test_dataloader.dataset (CityscapesUDADataset') in out
    assert 'has 16 classes' in out
