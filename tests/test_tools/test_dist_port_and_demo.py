"""tools/dist_train.sh with its default port busy, the determinism the
README claims for the demo, and the demo's summary file (issue 13, items 5
and 6)."""
import json
import os
import os.path as osp
import re
import socket
import subprocess
import sys

import pytest
import torch

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
DEFAULT_TRAIN_PORT = 29500


def _env(**extra):
    env = dict(os.environ, OMP_NUM_THREADS='1', **extra)
    env.pop('PORT', None)  # the scripts' own choice is under test
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    return env


@pytest.fixture
def busy_default_port():
    """Hold tools/dist_train.sh's default port (if another process already
    holds it, it is busy all the same)."""
    sock = socket.socket()
    try:
        sock.bind(('127.0.0.1', DEFAULT_TRAIN_PORT))
        sock.listen()
    except OSError:
        pass
    yield
    sock.close()


def _train(demo_data, work):
    # The quick demo's first run (`make demo`) with its own loader settings
    # (2 workers), 3 iterations.
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', 'configs/demo/quick/source_only.py',
         '1',
         '--work-dir', str(work), '--cfg-options'] +
        demo_data.options('source_only') + [
            'train_dataloader.num_workers=2',
            'train_dataloader.persistent_workers=True',
            'train_cfg.max_iters=3', 'train_cfg.val_interval=3'
        ],
        cwd=REPO, env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout + proc.stderr


def test_busy_port_and_identical_reruns(demo_data, tmp_path,
                                        busy_default_port):
    logs = [_train(demo_data, tmp_path / name) for name in ('a', 'b')]
    for log in logs:
        assert f'port {DEFAULT_TRAIN_PORT} is busy: using free port' in log
    # Two runs of the same command on the same machine: bit-identical
    # weights and validation scores (what the README's demo section says).
    a, b = (torch.load(tmp_path / name / 'iter_3.pth', weights_only=False)
            for name in ('a', 'b'))
    for key, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][key]), key
    scores = [
        line for log in logs for line in log.splitlines()
        if 'Iter(val)' in line and 'mIoU' in line
    ]
    assert len(scores) == 2
    values = [
        re.findall(r'\b(mIoU|mAcc|aAcc): ([\d.]+|nan)', line)
        for line in scores
    ]
    assert len(values[0]) == 3 and values[0] == values[1]


def test_given_port_is_kept(tmp_path):
    script = ('PYTHON=' + sys.executable + '; source tools/free_port.sh; '
              'choose_port 29500; echo "$PORT"')
    out = subprocess.run(['bash', '-c', script], cwd=REPO,
                         env=dict(_env(), PORT='12345'), capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == '12345'


def test_demo_summary_writes_table_commit_and_machine(tmp_path):
    runs = {'source_only': 30.5, 'maxsquare': 39.25, 'new_method': 41.0}
    for run, miou in runs.items():
        (tmp_path / run).mkdir()
        (tmp_path / run / 'test_metrics.json').write_text(
            json.dumps(dict(mIoU=miou, mAcc=50.0, aAcc=70.125)))
    out = tmp_path / 'summary.md'
    printed = subprocess.run(
        [sys.executable, 'tools/demo_summary.py', str(tmp_path)] +
        list(runs) + ['--out', str(out)], cwd=REPO, capture_output=True,
        text=True, check=True).stdout
    text = out.read_text()
    head = subprocess.run(['git', 'rev-parse', '--short=12', 'HEAD'],
                          cwd=REPO, capture_output=True, text=True,
                          check=True).stdout.strip()
    assert f'commit {head}' in text
    assert f'{os.cpu_count()} cores' in text and 'torch' in text
    assert '| source_only | ? | ? | 30.50 | 50.00 | 70.12 |' in text
    assert '| maxsquare | ? | ? | 39.25 |' in text
    assert '| new_method | ? | ? | 41.00 |' in text  # a new run needs no code
    assert text.strip() in printed


def test_demo_summary_names_a_missing_run(tmp_path):
    proc = subprocess.run(
        [sys.executable, 'tools/demo_summary.py', str(tmp_path), 'nope'],
        cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0
    assert osp.join(str(tmp_path), 'nope', 'test_metrics.json') in proc.stderr
