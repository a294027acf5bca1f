# CAG-UDA stage 2 on the shared DeepLab-V2 (gta2cs_deeplabv2_stage1.py),
# from stage 1's final model. Paper (seed 001): no DeepLab-V2 number (the
# released V3+ chain reports 50.2 mIoU).
_base_ = ['./gta2cs_deeplabv2_stage1.py']
model = dict(uda_terms=[dict(_base_.model.uda_terms[0], stage=2)])
load_from = 'work_dirs/cag/gta2cs_deeplabv2_stage1/iter_62412.pth'
