"""tools/test.py as a user runs it (issue 13): --tta at the config's own
scale and label handling, a convention line that reports what was measured,
--show-dir pictures of every image, and --out exports in a named format that
the Cityscapes evaluator scores like our metric."""
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def run(cmd):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def checkpoint(demo_data, tmp_path_factory):
    """iter_1.pth of a source-only demo run (the demo schedule: 600)."""
    work = tmp_path_factory.mktemp('eval_tools_work')
    run([sys.executable, 'tools/train.py', 'configs/demo/source_only.py',
         '--work-dir', str(work), '--cfg-options'] +
        demo_data.options('source_only') +
        ['train_cfg.max_iters=1', 'train_cfg.val_interval=10'])
    return str(work / 'iter_1.pth')


def _test(demo_data, checkpoint, tmp_path, *args, config=None, options=()):
    return run([
        sys.executable, 'tools/test.py', config or
        'configs/demo/source_only.py', checkpoint, '--work-dir',
        str(tmp_path / 'work')
    ] + list(args) + ['--cfg-options'] + demo_data.options('source_only') +
               list(options))


def _convention(log: str) -> str:
    return re.search(r'Evaluation convention: .*', log).group(0)


def test_tta_runs_at_the_config_test_scale(demo_data, checkpoint, tmp_path):
    # The demo's val images are 256x128; test them at 128x64 input (the
    # config's own Resize, shrunk here): --tta must keep that scale (a
    # fixed TTA pipeline resized to 1024x512) and full-resolution labels.
    log = _test(demo_data, checkpoint, tmp_path, '--tta',
                options=['test_dataloader.dataset.pipeline.1.scale=(128,64)'])
    assert _convention(log) == (
        'Evaluation convention: labels at full resolution (compared at '
        '256x128), input 128x64, flip averaging: on (2 views), multi-scale: '
        'off, checkpoint: iter 1 of 600 (NOT the end of the schedule), '
        'classes: 19 (mIoU)')


def test_tta_keeps_inference_size_labels(demo_data, checkpoint, tmp_path):
    config = tmp_path / 'inference_labels.py'
    config.write_text(
        f'_base_ = [{osp.join(REPO, "configs/demo/source_only.py")!r}]\n'
        'test_dataloader = dict(dataset=dict(pipeline=[\n'
        "    dict(type='CheckedLoadImageFromFile'),\n"
        "    dict(type='Resize', scale=(128, 64), keep_ratio=False),\n"
        "    dict(type='CheckedLoadAnnotations'),\n"
        "    dict(type='LabelsAtInferenceSize'),\n"
        "    dict(type='PackSegInputs')]))\n"
        "test_evaluator = dict(label_resolution='inference')\n")
    for extra in ([], ['--tta']):
        log = _test(demo_data, checkpoint, tmp_path, *extra,
                    config=str(config))
        flip = 'on (2 views)' if extra else 'off'
        assert _convention(log).startswith(
            'Evaluation convention: labels at inference size (compared at '
            f'128x64), input 128x64, flip averaging: {flip}, ')


def test_show_dir_paints_every_image(demo_data, checkpoint, tmp_path):
    show = tmp_path / 'vis'
    _test(demo_data, checkpoint, tmp_path, '--show-dir', str(show))
    stems = sorted(
        osp.basename(p)[:-len('_leftImg8bit.png')] for p in glob.glob(
            osp.join(demo_data.cityscapes, 'leftImg8bit', 'val', '*',
                     '*_leftImg8bit.png')))
    assert len(stems) == 2
    pictures = sorted(glob.glob(str(show / 'side_by_side' / '*.png')))
    assert [osp.basename(p) for p in pictures] == [
        f'{s}_leftImg8bit.png' for s in stems
    ]
    picture = cv2.imread(pictures[0])
    assert picture.shape == (128, 3 * 256 + 2 * 4, 3)  # image|pred|label
    original = cv2.imread(
        glob.glob(
            osp.join(demo_data.cityscapes, 'leftImg8bit', 'val', '*',
                     f'{stems[0]}_leftImg8bit.png'))[0])
    # The first panel is the image (256x128 already: no resampling).
    np.testing.assert_array_equal(picture[:, :256], original)
    # MMSeg's overlay hook paints every image too (its default is every
    # 50th batch, so nothing for 2 images).
    overlays = glob.glob(
        str(show / '**' / 'vis_image' / '*.png'), recursive=True)
    assert len(overlays) == 2
    chart = cv2.imread(str(show / 'per_class_iou.png'))
    assert chart is not None and chart.shape[0] > 100


def test_out_exports_cityscapes_label_ids(demo_data, checkpoint, tmp_path,
                                          monkeypatch):
    out = tmp_path / 'pred'
    metrics_file = tmp_path / 'metrics.json'
    _test(demo_data, checkpoint, tmp_path, '--out', str(out), '--out-format',
          'cityscapes_label_ids', '--save-metrics', str(metrics_file))
    files = sorted(p.name for p in out.glob('*.png'))
    assert len(files) == 2 and all(
        f.endswith('_predLabelIds.png') for f in files)
    sidecar = json.loads((out / 'prediction_format.json').read_text())
    assert sidecar['format'] == 'cityscapes_label_ids'
    values = np.unique(
        np.concatenate([cv2.imread(str(out / f), 0).ravel()
                        for f in files]))
    assert set(values.tolist()) <= set(sidecar['values'].values())
    ours = json.loads(metrics_file.read_text())['mIoU']

    ev = pytest.importorskip(
        'cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling')
    args = ev.args
    for key, value in dict(
            predictionPath=str(out),
            predictionWalk=None,
            exportFile=str(tmp_path / 'cityscapes_result.json'),
            evalInstLevelScore=False,
            evalPixelAccuracy=False,
            quiet=True).items():
        monkeypatch.setattr(args, key, value, raising=False)
    gts = sorted(
        glob.glob(
            osp.join(demo_data.cityscapes, 'gtFine', 'val', '*',
                     '*_gtFine_labelIds.png')))
    preds = [ev.getPrediction(args, gt) for gt in gts]
    result = ev.evaluateImgLists(preds, gts, args)
    assert 100 * result['averageScoreClasses'] == pytest.approx(
        ours, abs=0.006)

    # tools/cityscapes_eval.py wraps the same evaluator for users.
    log = run([
        sys.executable, 'tools/cityscapes_eval.py',
        str(out), '--gt',
        osp.join(demo_data.cityscapes, 'gtFine', 'val'), '--json',
        str(tmp_path / 'tool_result.json')
    ])
    tool = float(re.search(r'19 classes, 2 images: mIoU ([\d.]+)',
                           log).group(1))
    assert tool == pytest.approx(ours, abs=0.006)
