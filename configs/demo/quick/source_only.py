# Quick demo (`make demo`): configs/demo/source_only.py (MaxSquare paper's
# source-only baseline, 36.9 mIoU on the real data), shortened.
_base_ = ['../source_only.py', './_quick.py']
demo_iters = _base_.quick_source_iters
param_scheduler = [dict(_base_.param_scheduler[0], end=demo_iters)]
train_cfg = dict(max_iters=demo_iters, val_interval=demo_iters)
