# Demo of the CAG-UDA chain, step 3: stage 2 (configs/cag/gta2cs_stage2.py,
# 50.2 mIoU on the real data after 3 stages) from the demo stage 1's final
# model: anchors and frozen model rebuilt from it.
_base_ = ['./cag_stage1.py']
model = dict(uda_terms=[dict(_base_.model.uda_terms[0], stage=2)])
load_from = 'work_dirs/demo/full/cag_stage1/iter_100.pth'
