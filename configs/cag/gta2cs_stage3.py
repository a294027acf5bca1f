# CAG-UDA stage 3, GTA5 -> Cityscapes (19 classes), DeepLab-V3+ ResNet-101:
# configs/cag/gta2cs_stage1.py started from stage 2's final model, whose
# anchors and frozen prediction model CategoryAnchorHook rebuilds at
# iteration 0. Paper (seed 001) Table 1: 50.2 mIoU after stage 3.
_base_ = ['./gta2cs_stage1.py']
model = dict(uda_terms=[dict(_base_.model.uda_terms[0], stage=3)])
load_from = 'work_dirs/cag/gta2cs_stage2/iter_62412.pth'
