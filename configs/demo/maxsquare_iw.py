# Demo of configs/maxsquare/gta2cs_iw.py (MaxSquare + image-wise weighting,
# 45.2 mIoU on the real data): the MaxSquare demo with the IW target loss
# of that config.
_base_ = ['./maxsquare.py']
model = dict(uda_terms=[
    dict(
        type='TargetOutputLoss',
        loss=dict(type='MaxSquareLoss', loss_weight=0.1, iw_ratio=0.2))
])
