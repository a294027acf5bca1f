"""The quick demo (`make demo`, issue 22): its configs only shorten the
demo configs and chain through the quick runs' own checkpoints, both demo
modes name configs that exist, and tools/demo_summary.py writes the gap to
the control run, the runs' lengths and starts, and one picture of all runs
on the same val image."""
import copy
import json
import os.path as osp
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
QUICK = osp.join(REPO, 'configs', 'demo', 'quick')
QUICK_WORK = 'work_dirs/demo/quick'
FULL_WORK = 'work_dirs/demo/full'
RUNS = ('source_only', 'source_only_more_iters', 'maxsquare', 'dacs', 'fada',
        'cag_warmup', 'cag_stage1', 'depth')


def _load(path):
    return Config.fromfile(path, import_custom_modules=False)


def _without_length(cfg):
    """The config's dict less what a quick config may change: its length
    (iterations, the schedule's end relative to them), its start and the
    helper names."""
    d = copy.deepcopy(cfg.to_dict())
    iters = d['train_cfg'].pop('max_iters')
    assert d['train_cfg'].pop('val_interval') == iters
    d['param_scheduler'] = [dict(s) for s in d['param_scheduler']]
    for scheduler in d['param_scheduler']:
        scheduler['end'] -= iters  # the offset (+1 or not) must stay
    for key in list(d):
        if key in ('load_from', 'demo_iters') or key.startswith('quick_'):
            del d[key]
    return d


@pytest.mark.parametrize('run', RUNS)
def test_quick_config_only_shortens_its_demo_config(run):
    quick = _load(osp.join(QUICK, f'{run}.py'))
    full = _load(osp.join(REPO, 'configs', 'demo', f'{run}.py'))
    assert quick.train_cfg.max_iters < full.train_cfg.max_iters
    assert _without_length(quick) == _without_length(full)


def test_quick_chain_starts_from_the_quick_runs():
    cfgs = {run: _load(osp.join(QUICK, f'{run}.py')) for run in RUNS}
    starts = {}
    for run, cfg in cfgs.items():
        if not cfg.load_from:
            continue
        match = re.fullmatch(rf'{QUICK_WORK}/(\w+)/iter_(\d+)\.pth',
                             cfg.load_from)
        assert match, f'{run}: load_from {cfg.load_from}'
        start, iters = match.group(1), int(match.group(2))
        # the final checkpoint of a quick run
        assert iters == cfgs[start].train_cfg.max_iters, run
        starts[run] = start
    assert starts == {
        'source_only_more_iters': 'source_only',
        'maxsquare': 'source_only',
        'dacs': 'source_only',
        'cag_stage1': 'cag_warmup'
    }
    # the control continues source training as long as the runs it is the
    # control of
    control = cfgs['source_only_more_iters'].train_cfg.max_iters
    for run in ('maxsquare', 'dacs'):
        assert cfgs[run].train_cfg.max_iters == control
    assert cfgs['source_only_more_iters'].model.uda_terms == []


def test_full_demo_chain_stays_in_its_own_work_dir():
    for run in ('maxsquare', 'maxsquare_iw', 'dacs', 'source_only_more_iters',
                'cag_stage1', 'cag_stage2', 'depth_self_training'):
        load_from = _load(osp.join(REPO, 'configs', 'demo',
                                   f'{run}.py')).load_from
        assert load_from.startswith(FULL_WORK + '/'), (run, load_from)


def _mode_runs(mode):
    """The default 19-class runs of a tools/demo.sh mode."""
    text = open(osp.join(REPO, 'tools', 'demo.sh')).read()
    block = re.search(rf'^    {mode}\)\n(.*?);;', text, re.S | re.M).group(1)
    return re.search(r"DEFAULT_RUNS='([^']*)'", block).group(1).split()


@pytest.mark.parametrize('mode,folder,extra', [
    ('quick', 'configs/demo/quick', ['depth']),
    ('full', 'configs/demo', ['depth', 'depth_self_training']),
])
def test_each_demo_mode_names_existing_configs(mode, folder, extra):
    runs = _mode_runs(mode)
    # every method family, the control included
    for family in ('source_only', 'source_only_more_iters', 'maxsquare',
                   'dacs', 'fada', 'cag_warmup', 'cag_stage1'):
        assert family in runs, (mode, family)
    for run in runs + extra:
        assert osp.isfile(osp.join(REPO, folder, f'{run}.py')), (mode, run)


def test_demo_rejects_an_unknown_mode():
    proc = subprocess.run(['bash', 'tools/demo.sh', 'fast'], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "usage: tools/demo.sh [quick|full], got 'fast'" in proc.stderr


def _write_run(work, run, miou, iters=None, picture=None):
    folder = work / run
    (folder / 'pictures' / 'side_by_side').mkdir(parents=True)
    (folder / 'test_metrics.json').write_text(
        json.dumps(dict(mIoU=miou, mAcc=50.0, aAcc=70.125)))
    if iters is not None:
        (folder / 'last_checkpoint').write_text(f'iter_{iters}.pth')
    if picture is not None:
        assert cv2.imwrite(
            str(folder / 'pictures' / 'side_by_side' / 'a.png'), picture)


def _summary(work, *args):
    return subprocess.run(
        [sys.executable, 'tools/demo_summary.py', str(work)] + list(args),
        cwd=REPO, capture_output=True, text=True)


def test_summary_gap_length_start_and_comparison_picture(tmp_path):
    work, configs = tmp_path / 'work', tmp_path / 'configs'
    configs.mkdir()
    rng = np.random.default_rng(0)
    pictures = {
        'control': rng.integers(0, 256, (6, 10, 3), dtype=np.uint8),
        'method': rng.integers(0, 256, (6, 7, 3), dtype=np.uint8),
        'scratch': rng.integers(0, 256, (6, 10, 3), dtype=np.uint8),
    }
    _write_run(work, 'control', 30.5, 100, pictures['control'])
    _write_run(work, 'method', 39.25, 100, pictures['method'])
    _write_run(work, 'scratch', 20.0, None, pictures['scratch'])
    # one more picture only one run has: not the common one
    assert cv2.imwrite(
        str(work / 'method' / 'pictures' / 'side_by_side' / '0.png'),
        pictures['method'])
    (configs / 'control.py').write_text(
        f"load_from = '{work}/base/iter_200.pth'\n")
    (configs / 'method.py').write_text("_base_ = ['./control.py']\n")
    (configs / 'scratch.py').write_text('load_from = None\n')
    out = tmp_path / 'summary.md'
    proc = _summary(work, 'control', 'method', 'scratch', '--control',
                    'control', '--configs', str(configs), '--command',
                    'make demo', '--out', str(out))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert '`make demo` at commit ' in text
    assert ('| run | iterations | start | target mIoU | gap to control | '
            'mAcc | aAcc |') in text
    assert '| control | 100 | base | 30.50 | — | 50.00 | 70.12 |' in text
    assert '| method | 100 | base | 39.25 | +8.75 | 50.00 | 70.12 |' in text
    assert '| scratch | ? | random weights | 20.00 | -10.50 |' in text
    assert 'gap to control: target mIoU minus that of control' in text
    # every run's picture of the image they all have, in the table's
    # order, each under a 22-pixel caption, padded white to the widest
    comparison = tmp_path / 'summary_a.png'
    assert str(comparison) in text
    stacked = cv2.imread(str(comparison), cv2.IMREAD_COLOR)
    assert stacked.shape == (3 * (22 + 6), 10, 3)
    for i, run in enumerate(('control', 'method', 'scratch')):
        top = i * 28 + 22
        width = pictures[run].shape[1]
        assert np.array_equal(stacked[top:top + 6, :width], pictures[run])
        assert (stacked[top:top + 6, width:] == 255).all()
        caption = stacked[top - 22:top]
        assert (caption < 128).any() and (caption == 255).mean() > 0.5
    assert text.strip() in proc.stdout


def test_summary_without_control_or_pictures(tmp_path):
    _write_run(tmp_path, 'depth', 57.96, 40)
    proc = _summary(tmp_path, 'depth')
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / 'summary.md').read_text()
    assert '| run | iterations | start | target mIoU | mAcc | aAcc |' in text
    assert '| depth | 40 | ? | 57.96 | 50.00 | 70.12 |' in text
    assert 'not every run has one' in text


def test_summary_rejects_a_control_that_is_not_a_run(tmp_path):
    _write_run(tmp_path, 'maxsquare', 39.25)
    proc = _summary(tmp_path, 'maxsquare', '--control', 'nope')
    assert proc.returncode != 0
    assert '--control nope is not one of the runs' in proc.stderr
