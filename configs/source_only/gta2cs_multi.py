# Multi-level source-only model (the low head on layer3 trained with 0.1 x
# its CE), GTA5 -> Cityscapes: the starting point of
# configs/maxsquare/gta2cs_iw_multi.py. The paper reports no separate number
# for it (Table 2's 36.9 is the single-level source model).
_base_ = ['./gta2cs.py']
model = dict(auxiliary_head=dict(_base_.low_head, num_active_branches=2))
