"""Predictions exported in Cityscapes label ids are scored by the Cityscapes
evaluator exactly as UDAIoUMetric scores them (issue 13, item 3).

The evaluator is cityscapesscripts' evalPixelLevelSemanticLabeling when it
is installed; otherwise the same computation, written here from its
definition (confusion matrix over label ids; IoU = TP / (TP + FP + FN) with
FP counted only on ground-truth pixels of evaluated classes; mean over the
non-NaN classes)."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from PIL import Image

import mmseg_uda  # noqa: F401
from mmseg_uda.datasets.class_tables import (CITYSCAPES_13_LUT,
                                             CITYSCAPES_16_LUT,
                                             CITYSCAPES_CLASSES,
                                             CITYSCAPES_LUT, CLASS_SETTINGS,
                                             NTHU_13_CLASSES,
                                             SYNTHIA_16_CLASSES)
from mmseg_uda.evaluation.metrics import UDAIoUMetric
from mmseg_uda.evaluation.prediction_export import (SIDECAR, prediction_path,
                                                    value_table)
from mmseg_uda.evaluation.runtime_info_keys import PER_CLASS_IOU_KEY

# Cityscapes label id of each of the 19 classes (labels.py), written out
# here rather than taken from the code under test.
LABEL_IDS = dict(
    zip(CITYSCAPES_CLASSES,
        (7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32,
         33)))
GT_LUTS = {19: CITYSCAPES_LUT, 16: CITYSCAPES_16_LUT, 13: CITYSCAPES_13_LUT}
STEMS = [f'frankfurt_000000_{i:06d}' for i in range(3)]


def test_value_tables():
    table = value_table(CITYSCAPES_CLASSES, 'cityscapes_label_ids')
    assert table.tolist() == [LABEL_IDS[n] for n in CITYSCAPES_CLASSES]
    table16 = value_table(SYNTHIA_16_CLASSES, 'cityscapes_label_ids')
    assert table16.tolist() == [LABEL_IDS[n] for n in SYNTHIA_16_CLASSES]
    table13 = value_table(NTHU_13_CLASSES, 'cityscapes_label_ids')
    assert table13.tolist() == [LABEL_IDS[n] for n in NTHU_13_CLASSES]
    # A class that is not evaluated is void (0).
    partial = value_table(CITYSCAPES_CLASSES, 'cityscapes_label_ids',
                          evaluated=SYNTHIA_16_CLASSES)
    assert [partial[CITYSCAPES_CLASSES.index(n)]
            for n in ('terrain', 'truck', 'train')] == [0, 0, 0]
    assert value_table(('a', 'b'), 'train_ids').tolist() == [0, 1]
    with pytest.raises(ValueError, match="'flat'.*train_ids"):
        value_table(CLASS_SETTINGS[7].classes, 'cityscapes_label_ids')


def test_file_names_name_the_format():
    img = 'leftImg8bit/val/frankfurt/frankfurt_000000_000294_leftImg8bit.png'
    assert osp.basename(prediction_path(
        'out', img, 'cityscapes_label_ids')) == \
        'frankfurt_000000_000294_predLabelIds.png'
    assert osp.basename(prediction_path('out', img, 'train_ids')) == \
        'frankfurt_000000_000294_predTrainIds.png'


def _write_data(root, num_classes, rng):
    """Ground-truth label-id PNGs and random predictions (class indices)."""
    gt_files, preds = [], []
    for stem in STEMS:
        gt = rng.integers(0, 34, (24, 40)).astype(np.uint8)
        # Large patches of a few classes so that IoUs are not all ~0.
        gt[:12, :20] = LABEL_IDS['road']
        gt[12:, 20:] = LABEL_IDS['car']
        gt[:6, 30:] = LABEL_IDS['terrain']
        path = osp.join(root, 'gtFine', 'val', 'frankfurt',
                        f'{stem}_gtFine_labelIds.png')
        Image.fromarray(gt).save(_mkdir(path))
        gt_files.append(path)
        pred = rng.integers(0, num_classes, gt.shape)
        pred[:10, :20] = 0  # road
        preds.append(pred)
    return gt_files, preds


def _mkdir(path):
    import os
    os.makedirs(osp.dirname(path), exist_ok=True)
    return path


def _our_scores(classes, eval_classes, gt_files, preds, num_classes,
                out_dir):
    metric = UDAIoUMetric(
        eval_classes=eval_classes,
        output_dir=out_dir,
        output_format='cityscapes_label_ids')
    metric.dataset_meta = dict(classes=classes)
    for stem, gt_file, pred in zip(STEMS, gt_files, preds):
        label = GT_LUTS[num_classes][np.array(Image.open(gt_file))]
        metric.process({}, [
            dict(
                img_path=f'leftImg8bit/val/frankfurt/{stem}_leftImg8bit.png',
                gt_sem_seg=dict(data=torch.from_numpy(label.astype(
                    np.int64))[None]),
                pred_sem_seg=dict(data=torch.from_numpy(pred)[None]))
        ])
    metrics = metric.evaluate(len(STEMS))
    per_class = MessageHub.get_current_instance().get_info(PER_CLASS_IOU_KEY)
    return metrics['mIoU'], dict(per_class)


def _cityscapes_scripts_scores(gt_files, pred_dir, evaluated, tmp_path,
                               monkeypatch):
    """cityscapesscripts' evaluator on the exported files; classes outside
    ``evaluated`` are marked ignoreInEval, as a 16/13-class benchmark
    evaluates them."""
    ev = pytest.importorskip(
        'cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling')
    for label_id, label in list(ev.id2label.items()):
        if not label.ignoreInEval and label.name not in evaluated:
            monkeypatch.setitem(ev.id2label, label_id,
                                label._replace(ignoreInEval=True))
    args = ev.args
    for key, value in dict(
            predictionPath=pred_dir,
            predictionWalk=None,
            exportFile=str(tmp_path / 'cityscapes_result.json'),
            evalInstLevelScore=False,  # needs *_instanceIds.png (and in1d)
            evalPixelAccuracy=False,
            quiet=True).items():
        monkeypatch.setattr(args, key, value, raising=False)
    preds = [ev.getPrediction(args, gt) for gt in gt_files]
    result = ev.evaluateImgLists(preds, gt_files, args)
    scores = {
        name: 100 * value
        for name, value in result['classScores'].items()
        if name in evaluated
    }
    return 100 * result['averageScoreClasses'], scores


def _same_computation(gt_files, pred_dir, evaluated):
    """The Cityscapes evaluator's computation, written from its definition,
    on the exported files (found by its <city>_<seq>_<frame>*.png rule)."""
    import glob
    conf = np.zeros((256, 256), np.int64)
    for gt_file in gt_files:
        stem = '_'.join(osp.basename(gt_file).split('_')[:3])
        (pred_file, ) = glob.glob(osp.join(pred_dir, f'{stem}*.png'))
        gt = np.array(Image.open(gt_file)).astype(np.int64)
        pred = np.array(Image.open(pred_file)).astype(np.int64)
        np.add.at(conf, (gt.ravel(), pred.ravel()), 1)
    evaluated_ids = [LABEL_IDS[n] for n in evaluated]
    scores = {}
    for name in evaluated:
        i = LABEL_IDS[name]
        tp = conf[i, i]
        fn = conf[i].sum() - tp
        fp = conf[[j for j in evaluated_ids if j != i], i].sum()
        denom = tp + fp + fn
        scores[name] = float('nan') if denom == 0 else 100 * tp / denom
    valid = [v for v in scores.values() if not np.isnan(v)]
    return float(np.mean(valid)), scores


@pytest.mark.parametrize('num_classes, eval_classes', [
    (19, None),
    (16, None),
    (13, None),
    (19, list(SYNTHIA_16_CLASSES)),  # a 19-class model scored on 16
])
@pytest.mark.parametrize('evaluator', ['cityscapesscripts', 'same'])
def test_cityscapes_evaluator_scores_like_our_metric(tmp_path, monkeypatch,
                                                     num_classes,
                                                     eval_classes,
                                                     evaluator):
    classes = CLASS_SETTINGS[num_classes].classes
    evaluated = eval_classes or list(classes)
    rng = np.random.default_rng(num_classes)
    gt_files, preds = _write_data(str(tmp_path / 'cs'), num_classes, rng)
    pred_dir = str(tmp_path / 'pred')
    ours, our_classes = _our_scores(classes, eval_classes, gt_files, preds,
                                    num_classes, pred_dir)

    sidecar = json.loads((tmp_path / 'pred' / SIDECAR).read_text())
    assert sidecar['format'] == 'cityscapes_label_ids'
    assert sidecar['values']['road'] == 7
    if evaluator == 'cityscapesscripts':
        theirs, their_classes = _cityscapes_scripts_scores(
            gt_files, pred_dir, evaluated, tmp_path, monkeypatch)
    else:
        theirs, their_classes = _same_computation(gt_files, pred_dir,
                                                  evaluated)
    assert set(their_classes) == set(our_classes) == set(evaluated)
    for name in evaluated:
        if np.isnan(their_classes[name]):
            assert np.isnan(our_classes[name]), name
        else:
            assert our_classes[name] == pytest.approx(
                their_classes[name], abs=0.006), name
    assert ours == pytest.approx(theirs, abs=0.006)
    assert 5 < ours < 95  # the case discriminates


def test_train_id_files_are_not_taken_for_label_ids(tmp_path):
    metric = UDAIoUMetric(output_dir=str(tmp_path), output_format='train_ids')
    metric.dataset_meta = dict(classes=CITYSCAPES_CLASSES)
    pred = torch.full((1, 2, 3), 13)  # car: train id 13, label id 26
    metric.process({}, [
        dict(
            img_path='frankfurt_000000_000001_leftImg8bit.png',
            gt_sem_seg=dict(data=pred.clone()),
            pred_sem_seg=dict(data=pred))
    ])
    written = np.array(
        Image.open(tmp_path / 'frankfurt_000000_000001_predTrainIds.png'))
    assert (written == 13).all()
    sidecar = json.loads((tmp_path / SIDECAR).read_text())
    assert sidecar['format'] == 'train_ids'
    assert 'not Cityscapes label ids' in sidecar['description']
