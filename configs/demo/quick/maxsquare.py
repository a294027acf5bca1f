# Quick demo (`make demo`): configs/demo/maxsquare.py (MaxSquare, 44.3 mIoU
# on the real data), shortened, from the quick source-only checkpoint.
_base_ = ['../maxsquare.py', './_quick.py']
demo_iters = _base_.quick_adaptation_iters
load_from = _base_.quick_source_only
param_scheduler = [dict(_base_.param_scheduler[0], end=demo_iters)]
train_cfg = dict(max_iters=demo_iters, val_interval=demo_iters)
