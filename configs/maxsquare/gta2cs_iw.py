# MaxSquare + image-wise weighting (alpha = 0.2), GTA5 -> Cityscapes.
# Paper (seed 003) Table 2 "MaxSquare+IW": 45.2 mIoU.
# loss = -sum(p^2 * w) / (B*C) with per-image class weights
# w_c = 1 / max(n_c^alpha * N^(1-alpha), 1) (METHODS.md section 2).
# Deviation from the reference implementation: the weights are computed per
# image, so batches larger than 1 are also correct (the implementation only
# broadcasts correctly for batch 1; identical at batch 1).
_base_ = ['./gta2cs.py']
model = dict(uda_terms=[
    dict(
        type='TargetOutputLoss',
        loss=dict(type='MaxSquareLoss', loss_weight=0.1, iw_ratio=0.2))
])
