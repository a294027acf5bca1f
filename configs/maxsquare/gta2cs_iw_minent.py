# Entropy + image-wise weighting (ablation), GTA5 -> Cityscapes.
# Paper (seed 003) Table 4 "Entropy + IW": 43.5 mIoU.
# Same weights and normalisation as gta2cs_iw.py applied to -p*log(p).
_base_ = ['./gta2cs.py']
model = dict(uda_terms=[
    dict(
        type='TargetOutputLoss',
        loss=dict(type='EntropyLoss', loss_weight=0.1, iw_ratio=0.2))
])
