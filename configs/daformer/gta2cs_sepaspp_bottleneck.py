# DAFormer's decoder ablation (DAFormer Table 7, its experiments.py id 6):
# the full DAFormer UDA of ./gta2cs.py with context only at F4
# (`daformer_sepaspp_bottleneck`: F4 upsampled x8 to stride 4, a 1x1 conv
# and the separable ASPP on it alone, the four embeddings fused by a 1x1
# conv), GTA5 -> Cityscapes. Paper number: the Table 7 row "Context only at
# F4", mean of seeds 0, 1, 2 (take the number from the paper: METHODS.md
# sec. 7.8 had no text of that table). Deviation: the release upsamples F4
# in a neck, so its feature distance compares the upsampled 128x128 F4
# (label cells of 4 pixels); here the upsampling is the head's own and the
# feature distance reads the encoder's 16x16 F4 as in every other DAFormer
# config (README "DAFormer", deviations).
_base_ = ['./gta2cs.py']
model = dict(decode_head=dict(fusion='sepaspp_bottleneck'))
