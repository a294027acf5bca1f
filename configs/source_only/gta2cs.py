# Source-only baseline, GTA5 -> Cityscapes (19 classes), DeepLab-V2
# ResNet-101. MaxSquare paper (seed 003), Table 1 "Source only": 36.9 mIoU.
# Trained on GTA5 alone (the target is only used for validation), with
# MaxSquare's released schedule: SGD 2.5e-4, heads 10x, poly horizon 200k,
# stopped at 80k. Deviation from the implementation, kept for fidelity of
# its numbers: only the d6/d12 ASPP branches are summed
# (num_active_branches=2, see METHODS.md section 1).
# This checkpoint initialises the adaptation configs (load_from).
_base_ = [
    '../_base_/models/deeplabv2_r101.py',
    '../_base_/datasets/gta5_to_cityscapes.py',
    '../_base_/schedules/sgd_poly_10x_head.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='UDAEncoderDecoder',
    data_preprocessor=dict(type='UDADataPreProcessor'),
    backbone=dict(frozen_bn_affine='stem', norm_eval=False),
    decode_head=dict(num_active_branches=2))
train_dataloader = dict(dataset=dict(_delete_=True, **_base_.source_train))
