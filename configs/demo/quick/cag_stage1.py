# Quick demo (`make demo`), CAG-UDA chain step 2: configs/demo/
# cag_stage1.py (CAG-UDA, 50.2 mIoU on the real data after warm-up + 3
# stages), shortened, from the quick warm-up's final model.
_base_ = ['../cag_stage1.py', './_quick.py']
demo_iters = _base_.quick_cag_stage_iters
load_from = _base_.quick_cag_warmup
# the stages' poly stepped before the optimiser step, over the run
param_scheduler = [dict(_base_.param_scheduler[0], end=demo_iters + 1)]
train_cfg = dict(max_iters=demo_iters, val_interval=demo_iters)
