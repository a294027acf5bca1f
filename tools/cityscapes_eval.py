"""Score `tools/test.py --out DIR --out-format cityscapes_label_ids` with
cityscapesscripts' own evaluator (evalPixelLevelSemanticLabeling).

Its command-line entry point cannot run on NumPy 2 (the instance-level score
calls ``np.in1d``, which NumPy 2 removed) and always scores the 19 Cityscapes
classes. This runs its evaluation functions with the instance-level score
off and, for a 16- or 13-class model, the classes the model does not have
marked ``ignoreInEval`` (their ground-truth pixels are not counted, as
SYNTHIA / cross-city papers evaluate), so that its numbers are comparable
with UDAIoUMetric's.

Example::

    python tools/cityscapes_eval.py pred/ --gt data/cityscapes/gtFine/val \
        --num-classes 16
"""
import argparse
import glob
import json
import os.path as osp
import sys

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..'))
from mmseg_uda.datasets.class_tables import CLASS_SETTINGS  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('pred_dir', help='folder of *_predLabelIds.png')
    parser.add_argument(
        '--gt',
        default='data/cityscapes/gtFine/val',
        help='folder searched recursively for *_gtFine_labelIds.png')
    parser.add_argument(
        '--num-classes',
        type=int,
        choices=(19, 16, 13),
        default=19,
        help='classes of the model (its class list in class_tables)')
    parser.add_argument(
        '--json',
        help="where cityscapesscripts' result JSON goes (default: "
        'PRED_DIR/cityscapes_eval_result.json)')
    return parser.parse_args()


def evaluate(pred_dir: str, gt_files: list, classes: list,
             export_file: str) -> dict:
    """Run cityscapesscripts on ``gt_files`` and the predictions it finds
    in ``pred_dir``; classes not in ``classes`` are ignored in evaluation.

    Returns:
        dict: cityscapesscripts' result (``classScores`` in [0, 1],
        ``averageScoreClasses``).
    """
    try:
        from cityscapesscripts.evaluation import \
            evalPixelLevelSemanticLabeling as ev
    except ImportError:
        raise SystemExit('cityscapesscripts is not installed: '
                         'pip install cityscapesscripts')
    for label_id, label in list(ev.id2label.items()):
        if not label.ignoreInEval and label.name not in classes:
            ev.id2label[label_id] = label._replace(ignoreInEval=True)
    args = ev.args
    args.predictionPath = pred_dir
    args.predictionWalk = None
    args.exportFile = export_file
    args.evalInstLevelScore = False  # np.in1d: gone in NumPy 2
    args.evalPixelAccuracy = False  # np.in1d too
    args.quiet = False
    preds = [ev.getPrediction(args, gt) for gt in gt_files]
    return ev.evaluateImgLists(preds, gt_files, args)


def main() -> None:
    args = parse_args()
    gt_files = sorted(
        glob.glob(
            osp.join(args.gt, '**', '*_gtFine_labelIds.png'), recursive=True))
    if not gt_files:
        raise SystemExit(f'no *_gtFine_labelIds.png under {args.gt}')
    sidecar = osp.join(args.pred_dir, 'prediction_format.json')
    if osp.isfile(sidecar):
        with open(sidecar) as f:
            fmt = json.load(f).get('format')
        if fmt != 'cityscapes_label_ids':
            raise SystemExit(f'{sidecar} says the PNGs are {fmt!r}, not '
                             'cityscapes_label_ids: export with --out-format '
                             'cityscapes_label_ids')
    classes = list(CLASS_SETTINGS[args.num_classes].classes)
    export = args.json or osp.join(args.pred_dir,
                                   'cityscapes_eval_result.json')
    result = evaluate(args.pred_dir, gt_files, classes, export)
    print(f'cityscapesscripts, {len(classes)} classes, {len(gt_files)} '
          f'images: mIoU {100 * result["averageScoreClasses"]:.2f}')


if __name__ == '__main__':
    main()
