"""tools/benchmark_data.py: --help, the pipeline mode's --smoke run on
MaxSquare's and FADA's configs and the resize mode (no timings are
asserted: the output's structure only)."""
import os
import os.path as osp
import re
import subprocess
import sys

import numpy as np

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def _run(*args):
    return subprocess.run([sys.executable, 'tools/benchmark_data.py', *args],
                          cwd=REPO, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, PYTHONPATH=REPO))


def test_help():
    proc = _run('--help')
    assert proc.returncode == 0, proc.stderr
    for flag in ('--smoke', '--image', 'config', '--workers', '--data-root',
                 '--make-data'):
        assert flag in proc.stdout, flag


NUM = r'([\d.]+)'


def _check_pipeline_output(out, steps):
    """Both loaders with images/s and bytes, their ratio, and a per-step
    table of each domain for both loaders; ``steps`` must appear."""
    assert re.search(r'commit \S+, \d{4}-\d\d-\d\dT', out), out
    assert 'machine: ' in out and 'settings: workers 0' in out
    assert 'collate compact_label_collate' in out
    rates = {}
    for name in ('project \\(config pipeline\\)',
                 'reference \\(PIL, release-like\\)'):
        match = re.search(name + r'\s+' + NUM + r'\s+' + NUM, out)
        assert match, (name, out)
        rates[name] = float(match.group(1))
        assert rates[name] > 0 and float(match.group(2)) > 0
    assert re.search(r'ratio project / reference: ' + NUM + r'x images/s, '
                     + NUM + r'x bytes', out), out
    assert 'where the time goes' in out
    for domain in ('source', 'target'):
        for who in ('project', 'reference'):
            assert re.search(rf'{domain} {who}: {NUM} ms', out), out
    for step in steps:
        assert re.search(rf'{re.escape(step)}\s+{NUM}\s+{NUM} %', out), (
            step, out)


def test_pipeline_smoke_maxsquare_generates_its_data():
    proc = _run('configs/maxsquare/gta2cs.py', '--smoke')
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    _check_pipeline_output(out, [
        'CheckedLoadImageFromFile', 'Resize pillow bicubic', 'RandomFlip',
        'RandomGaussianBlur', 'PackSegInputs', 'PIL decode',
        'PIL random flip', 'PIL Gaussian blur', 'to float32 / int64 tensors'
    ])
    # uint8 labels and uint8 images against float32 images, int64 labels.
    ratio = float(re.search(r'x images/s, ([\d.]+)x bytes', out).group(1))
    assert ratio < 0.5


def test_pipeline_smoke_fada_on_given_data(demo_data):
    proc = _run('configs/fada/gta2cs.py', '--smoke', '--data-root',
                demo_data.root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    _check_pipeline_output(out, ['ColorJitter', 'PIL colour jitter',
                                 'PIL decode'])
    # FADA has no flip or blur, neither in the config nor the reference.
    assert 'RandomGaussianBlur' not in out and 'PIL Gaussian blur' not in out
    assert demo_data.gta5 in out and 'wrote ' not in out


def test_pipeline_unknown_data_root_name_is_named():
    proc = _run('configs/fada/gta2cs.py', '--smoke', '--data-root',
                'kitti=/nowhere')
    assert proc.returncode == 2
    assert 'kitti' in proc.stderr


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


def test_pipeline_smoke_cag_random_width_resize(demo_data):
    """CAG's pipeline: the reference has a counterpart for every step,
    RandomWidthResize included, and resizes bilinear as the release."""
    proc = _run('configs/cag/gta2cs_stage1.py', '--smoke', '--data-root',
                demo_data.root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    _check_pipeline_output(out, [
        'RandomWidthResize pillow bilinear', 'Resize pillow bilinear',
        'RandomCrop', 'PIL random width resize bilinear', 'PIL random crop',
        'PIL random flip'
    ])
    assert 'reference omits' not in out
    assert re.search(r'PIL resize \d+x\d+ bilinear', out), out


def _load_script():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'benchmark_data', osp.join(REPO, 'tools', 'benchmark_data.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scale_pipeline_scales_the_random_width():
    bench = _load_script()
    pipeline = [dict(type='RandomWidthResize', width=2200,
                     ratio_range=(0.5, 1.5)),
                dict(type='RandomCrop', crop_size=(512, 896))]
    scaled = bench.scale_pipeline(pipeline, 0.25)
    assert scaled[0]['width'] == 550 and scaled[1]['crop_size'] == (128, 224)
    assert pipeline[0]['width'] == 2200  # the config is not modified


def test_reference_random_width_resize_truncates_as_released():
    """width int(U * W), height int(w / aspect) (METHODS.md 6.1, 6.4),
    the image bilinear and the label nearest, with the draws of Python's
    random module."""
    import random

    from PIL import Image
    bench = _load_script()
    steps, omitted = bench.reference_steps(
        [dict(type='RandomWidthResize', width=100, ratio_range=(0.5, 1.5))],
        mean=(0, 0, 0))
    assert not omitted
    (name, step), = [s for s in steps if 'width' in s[0]]
    assert name == 'PIL random width resize bilinear'
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (41, 97, 3), np.uint8))
    label = Image.fromarray(rng.integers(0, 19, (41, 97), np.uint8))
    rounded_differs = 0
    for seed in range(20):
        random.seed(seed)
        width = int(random.uniform(0.5, 1.5) * 100)
        size = (width, int(width / (97 / 41)))
        rounded_differs += round(width / (97 / 41)) != size[1]
        random.seed(seed)
        sample = dict(img=image, label=label)
        step(sample)
        assert sample['img'].size == size and sample['label'].size == size
        assert np.array_equal(np.asarray(sample['img']),
                              np.asarray(image.resize(size, Image.BILINEAR)))
        assert np.array_equal(np.asarray(sample['label']),
                              np.asarray(label.resize(size, Image.NEAREST)))
    assert rounded_differs  # truncation, not mmcv's rounding, was checked
