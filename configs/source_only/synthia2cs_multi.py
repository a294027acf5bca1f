# Multi-level source-only model, SYNTHIA -> Cityscapes (16 classes): the
# starting point of configs/maxsquare/synthia2cs_iw_multi.py. Paper number:
# none separately (Table 3's 30.1 / 34.3 is the single-level source model).
_base_ = ['./synthia2cs.py']
model = dict(
    auxiliary_head=dict(
        _base_.low_head, num_classes=16, num_active_branches=2))
