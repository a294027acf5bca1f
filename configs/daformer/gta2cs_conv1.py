# DAFormer's decoder ablation (DAFormer Table 7, its experiments.py id 6):
# the full DAFormer UDA of ./gta2cs.py with the 1x1-conv fusion
# (`daformer_conv1`: SegFormer's decoder with 256 embedding dims; the
# release's daformer_conv1_mitb5.py), GTA5 -> Cityscapes. Paper number: the
# Table 7 row "SegF. (C_e = 256)", mean of seeds 0, 1, 2 (take the number
# from the paper: METHODS.md sec. 7.8 had no text of that table).
_base_ = ['./gta2cs.py']
model = dict(decode_head=dict(fusion='conv1'))
