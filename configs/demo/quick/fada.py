# Quick demo (`make demo`): configs/demo/fada.py (FADA, 49.2 mIoU on the
# real data), shortened; from random weights, as that demo (its network,
# frozen-BN torchvision-style, is not the source-only demo's).
_base_ = ['../fada.py', './_quick.py']
demo_iters = _base_.quick_adaptation_iters
param_scheduler = [dict(_base_.param_scheduler[0], end=demo_iters)]
train_cfg = dict(max_iters=demo_iters, val_interval=demo_iters)
