# MinEnt baseline (entropy minimisation), GTA5 -> Cityscapes.
# Paper (seed 003) Table 2 "MinEnt (reproduced)": 42.2 mIoU.
# loss = mean of -p*log(p) over B*C*H*W, lambda_T = 0.1 (the implementation
# uses one lambda_target for every target loss).
_base_ = ['./gta2cs.py']
model = dict(uda_terms=[
    dict(
        type='TargetOutputLoss',
        loss=dict(type='EntropyLoss', loss_weight=0.1))
])
