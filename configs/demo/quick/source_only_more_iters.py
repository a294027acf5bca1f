# Quick demo (`make demo`), the control run: configs/demo/
# source_only_more_iters.py (the MaxSquare demo without its target term;
# MaxSquare paper's source-only baseline, 36.9 mIoU on the real data), as
# many further iterations from the quick source-only checkpoint as the
# quick adaptation runs. Only the length and the start differ.
_base_ = ['../source_only_more_iters.py', './_quick.py']
demo_iters = _base_.quick_adaptation_iters
load_from = _base_.quick_source_only
param_scheduler = [dict(_base_.param_scheduler[0], end=demo_iters)]
train_cfg = dict(max_iters=demo_iters, val_interval=demo_iters)
