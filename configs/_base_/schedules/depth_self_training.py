# The depth method's self-training stage (METHODS.md sec. 5, 6.2): one
# round of CE on the refined pseudo-labels only (no source data, no depth
# term), SGD lr 2.5e-4 one group, momentum 0.9, weight decay 5e-4, poly 0.9
# over the adaptation's 90k horizon (so it ends at ~0.69 lr0 after 30k);
# the iteration count is per task (max_iters); seed 1234 (inherited).
# Only self_training_* names, so this file is a second base next to the
# adaptation config; a self-training config states
#   model = _base_.self_training_model
#   optim_wrapper = _base_.self_training_optim_wrapper
# and builds its pipeline from the adaptation's target pipeline (the same
# image resize, Pillow bicubic, or FitAndPad for Vistas) with the
# pseudo-labels loaded after the resize:
#   target[:-1] + _base_.self_training_label_loading + target[-1:]
self_training_optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=2.5e-4, momentum=0.9, weight_decay=5e-4),
    clip_grad=None)
# Assumption: the plain (unweighted) CE, mean over labelled pixels.
self_training_model = dict(
    uda_terms=[],
    decode_head=dict(
        loss_decode=dict(
            _delete_=True,
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            avg_non_ignore=True)))
self_training_label_suffix = '_pseudoTrainIds.png'
# tools/generate_pseudo_labels.py writes the refined labels at the input
# size, as the release (the whole input frame, FitAndPad's padding
# included), so they are read as written, after the image's resize, and
# checked against the resized image: no resize of the labels.
self_training_label_loading = [
    dict(type='CheckedLoadAnnotations'),
    dict(type='CheckSegMapSize'),
]
