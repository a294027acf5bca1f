# Quick demo (`make demo`), CAG-UDA chain step 1: configs/demo/
# cag_warmup.py (CAG-UDA, 50.2 mIoU on the real data after warm-up + 3
# stages), shortened.
_base_ = ['../cag_warmup.py', './_quick.py']
demo_iters = _base_.quick_cag_warmup_iters
# the stages' poly stepped before the optimiser step, over the run
param_scheduler = [dict(_base_.param_scheduler[0], end=demo_iters + 1)]
train_cfg = dict(max_iters=demo_iters, val_interval=demo_iters)
