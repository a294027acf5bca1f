# DACS + MaxSquare, GTA5 -> Cityscapes (19 classes), DeepLab-V2 ResNet-101:
# configs/dacs/gta2cs_deeplabv2.py with MaxSquare's target term added on
# the student's plain target forward (lambda_T = 0.1, -mean(p^2)/2 over
# B*C*H*W, as configs/maxsquare/gta2cs.py). A composition of two terms
# (three student forwards per iteration: source, target, mixed), not a
# published method: no paper number exists for it.
_base_ = ['./gta2cs_deeplabv2.py']
model = dict(uda_terms=[
    _base_.dacs_term,
    dict(
        type='TargetOutputLoss',
        loss=dict(type='MaxSquareLoss', loss_weight=0.1))
])
