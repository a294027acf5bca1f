# MaxSquare + image-wise weighting (alpha = 0.2), SYNTHIA -> Cityscapes.
# Paper (seed 003) Table 3 "MaxSquare+IW": 40.4 mIoU / 46.9 mIoU*.
# Weights per image (correct for any batch size; identical at batch 1).
_base_ = ['./synthia2cs.py']
model = dict(uda_terms=[
    dict(
        type='TargetOutputLoss',
        loss=dict(type='MaxSquareLoss', loss_weight=0.1, iw_ratio=0.2))
])
