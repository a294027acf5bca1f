# Quick demo (`make demo`): configs/demo/dacs.py (DACS, 52.1 mIoU in the
# DACS paper on the real data), shortened, from the quick source-only
# checkpoint.
_base_ = ['../dacs.py', './_quick.py']
demo_iters = _base_.quick_adaptation_iters
load_from = _base_.quick_source_only
param_scheduler = [dict(_base_.param_scheduler[0], end=demo_iters)]
train_cfg = dict(max_iters=demo_iters, val_interval=demo_iters)
