# Quick demo (`make demo`): configs/demo/depth.py (depth distribution,
# SYNTHIA -> Cityscapes 7 classes, 72.6 mIoU on the real data), shortened:
# the GMM fit and the adaptation; the self-training stage is in
# `make demo-full` only.
_base_ = ['../depth.py', './_quick.py']
demo_iters = _base_.quick_depth_iters
param_scheduler = [dict(_base_.param_scheduler[0], end=demo_iters)]
train_cfg = dict(max_iters=demo_iters, val_interval=demo_iters)
