# Option of the multi-level workflow (README, MaxSquare): the multi-level
# source-only model of configs/source_only/gta2cs_multi.py, validated on
# GTA5's official val split every 4,000 iterations, keeping the best
# checkpoint (best_mIoU_iter_N.pth), as the release picks gta5best.pth to
# start MaxSquare+IW+Multi. It selects on source labels only (legitimate;
# the target's val set is never used). No paper number of its own.
# GTA5 val is evaluated at the training size (1280x720) with labels at full
# resolution.
_base_ = ['./gta2cs_multi.py']
gta5_val_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=_base_.source_scale, keep_ratio=False,
         **_base_.pil_resize),
    dict(type='CheckedLoadAnnotations'),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        **dict(_base_.source_train, split='val', pipeline=gta5_val_pipeline)))
val_evaluator = dict(type='UDAIoUMetric', label_resolution='full')
# Only validation selects on GTA5; testing stays on Cityscapes val.
test_dataloader = dict(dataset=dict(_delete_=True, **_base_.target_val))
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='mIoU', rule='greater'))
