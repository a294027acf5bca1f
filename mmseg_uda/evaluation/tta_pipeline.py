"""The flip (and multi-scale) TTA pipeline of a config's own test pipeline.

``tools/test.py --tta`` must evaluate at the config's test scale with the
config's label handling (full-resolution labels, or
``LabelsAtInferenceSize``): a fixed TTA pipeline silently changes both for
every config that does not test at 1024x512 (the demo configs at 256x128,
FADA's self-distillation at 2048x1024). So the TTA pipeline is derived from
the test pipeline instead of being written once.
"""
import copy
from typing import List, Sequence

# Transforms that must come last / set the inference scale.
_PACK = 'PackSegInputs'
_RESIZE = 'Resize'
_INFERENCE_LABELS = 'LabelsAtInferenceSize'


def tta_pipeline_from_test_pipeline(
        test_pipeline: Sequence[dict],
        img_ratios: Sequence[float] = (1.0, )) -> List[dict]:
    """Turn a test pipeline into a ``TestTimeAug`` pipeline.

    Every step before the (single) ``Resize`` runs once; the ``Resize`` is
    repeated once per ratio of ``img_ratios`` (its ``scale`` multiplied),
    each followed by a plain and a horizontally flipped view; every step
    after it (e.g. ``LoadAnnotations``, ``LabelsAtInferenceSize``) runs in
    each view, in the test pipeline's order, and ``PackSegInputs`` last.
    Labels loaded after the flip therefore stay un-flipped, exactly as in
    the test pipeline; labels loaded before ``Resize`` are resized and
    flipped with the image, and ``SegTTAModel`` keeps the first (plain,
    ratio ``img_ratios[0]``) view's label.

    With several ratios, ``LabelsAtInferenceSize`` without a ``scale`` is
    given the test ``Resize`` scale so that every view's label has one size
    (the merge needs it); that needs ``keep_ratio=False``.

    Args:
        test_pipeline (Sequence[dict]): The config's test pipeline, with
            exactly one ``Resize`` and ``PackSegInputs`` last.
        img_ratios (Sequence[float]): Scales of the views relative to the
            test scale. Defaults to (1.0, ) (flip only).

    Returns:
        list[dict]: The steps before ``Resize`` followed by one
        ``TestTimeAug``.

    Raises:
        ValueError: If the pipeline has no or several ``Resize`` steps, does
            not end with ``PackSegInputs``, or multi-scale cannot keep one
            label size.
    """
    pipeline = [copy.deepcopy(dict(t)) for t in test_pipeline]
    types = [t.get('type') for t in pipeline]
    resizes = [i for i, name in enumerate(types) if name == _RESIZE]
    if len(resizes) != 1:
        raise ValueError('--tta derives its views from the test pipeline, '
                         f'which needs exactly one {_RESIZE!r}; got types '
                         f'{types}')
    if not types or types[-1] != _PACK:
        raise ValueError(f'--tta: the test pipeline must end with {_PACK!r}, '
                         f'got types {types}')
    ratios = [float(r) for r in img_ratios]
    if not ratios or not all(r > 0 for r in ratios):
        raise ValueError(f'--tta img_ratios must be positive, got {ratios}')
    at = resizes[0]
    resize = pipeline[at]
    multi_scale = ratios != [1.0]
    if multi_scale and 'scale' not in resize:
        raise ValueError('--tta multi-scale needs the test Resize to give '
                         f'`scale`, got {resize}')
    views = [
        resize if r == 1.0 else dict(
            resize,
            scale=tuple(round(s * r) for s in resize['scale']))
        for r in ratios
    ]
    flips = [
        dict(type='RandomFlip', prob=0., direction='horizontal'),
        dict(type='RandomFlip', prob=1., direction='horizontal')
    ]
    per_view = pipeline[at + 1:-1]
    for step in per_view:
        if (step.get('type') == _INFERENCE_LABELS and multi_scale
                and step.get('scale') is None):
            if resize.get('keep_ratio', False):
                raise ValueError(
                    '--tta multi-scale with LabelsAtInferenceSize and '
                    'keep_ratio=True: give LabelsAtInferenceSize a scale '
                    'so that every view has one label size')
            step['scale'] = tuple(resize['scale'])
    transforms = [views, flips] + [[step] for step in per_view]
    transforms.append([pipeline[-1]])
    return pipeline[:at] + [dict(type='TestTimeAug', transforms=transforms)]
