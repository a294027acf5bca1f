"""tools/benchmark_data.py: --help and the --smoke run (no timings are
asserted)."""
import os
import os.path as osp
import re
import subprocess
import sys

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def _run(*args):
    return subprocess.run([sys.executable, 'tools/benchmark_data.py', *args],
                          cwd=REPO, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, PYTHONPATH=REPO))


def test_help():
    proc = _run('--help')
    assert proc.returncode == 0, proc.stderr
    assert '--smoke' in proc.stdout and '--image' in proc.stdout


def test_smoke_reports_both_paths_and_their_difference():
    proc = _run('--smoke')
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert re.search(r'pil_resize\s+[\d.]+\s+pillow bicubic', out), out
    assert re.search(r'cv2_resize\s+[\d.]+\s+cv2 bilinear', out), out
    match = re.search(r'image mean \|d\| ([\d.]+), max \|d\| (\d+)', out)
    assert match and float(match.group(1)) > 0, out
    assert 'date ' in out and 'machine ' in out


def test_unreadable_image_is_named(tmp_path):
    proc = _run('--smoke', '--image', str(tmp_path / 'nope.png'))
    assert proc.returncode == 2
    assert 'nope.png' in proc.stderr
