# Source-only baseline, Cityscapes -> NTHU cross-city (13 classes),
# DeepLab-V2 ResNet-101, evaluated on Rome. MaxSquare paper (seed 003)
# Table 6 "Source only": Rome 51.0, Rio 48.9, Tokyo 47.8, Taipei 46.3.
# One source model serves all four cities (cs2nthu_{rio,tokyo,taipei}.py
# only evaluate on another city). Cityscapes train resized to 1024x512;
# same schedule as configs/source_only/gta2cs.py.
_base_ = [
    '../_base_/models/deeplabv2_r101.py',
    '../_base_/datasets/cityscapes_to_nthu.py',
    '../_base_/schedules/sgd_poly_10x_head.py',
    '../_base_/default_runtime.py',
]
model = dict(decode_head=dict(num_classes=13, num_active_branches=2))
train_dataloader = dict(dataset=dict(_delete_=True, **_base_.source_train))
