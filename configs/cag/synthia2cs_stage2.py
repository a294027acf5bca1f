# CAG-UDA stage 2, SYNTHIA -> Cityscapes (16 classes, with the 13-class
# mIoU*), DeepLab-V3+ ResNet-101:
# configs/cag/synthia2cs_stage1.py started from stage 1's final model, whose
# anchors and frozen prediction model CategoryAnchorHook rebuilds at
# iteration 0. Paper (seed 001) Table 2: 52.6 mIoU* (13 classes) after stage 3.
_base_ = ['./synthia2cs_stage1.py']
model = dict(uda_terms=[dict(_base_.model.uda_terms[0], stage=2)])
load_from = 'work_dirs/cag/synthia2cs_stage1/iter_62412.pth'
