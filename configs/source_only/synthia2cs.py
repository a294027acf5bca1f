# Source-only baseline, SYNTHIA -> Cityscapes (16 classes, mIoU and the
# 13-class mIoU*), DeepLab-V2 ResNet-101. MaxSquare paper (seed 003)
# Table 3 "Source only" (ResNet-101): 30.1 mIoU / 34.3 mIoU*.
# Same protocol as configs/source_only/gta2cs.py (SGD 2.5e-4, heads 10x,
# poly horizon 200k, stop at 80k, d6/d12 branches only, the released
# optimiser's one update per listing), SYNTHIA (all 9,400 images; no
# official split is used) resized to 1280x760.
_base_ = [
    '../_base_/models/deeplabv2_r101.py',
    '../_base_/datasets/synthia_to_cityscapes.py',
    '../_base_/schedules/sgd_poly_10x_head.py',
    '../_base_/default_runtime.py',
]
model = dict(decode_head=dict(num_classes=16, num_active_branches=2))
train_dataloader = dict(dataset=dict(_delete_=True, **_base_.source_train))
