# DAFormer's decoder ablation (DAFormer Table 7, its experiments.py id 6):
# the full DAFormer UDA of ./gta2cs.py with the ASPP fusion of ordinary
# 3x3 convs (`daformer_aspp`, "DAFormer w/o DSC"), GTA5 -> Cityscapes.
# Paper number: the Table 7 row "DAFormer w/o DSC", mean of seeds 0, 1, 2
# (take the number from the paper: METHODS.md sec. 7.8 had no text of that
# table).
_base_ = ['./gta2cs.py']
model = dict(decode_head=dict(fusion='aspp'))
