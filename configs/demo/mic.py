# Demo of MIC on DACS: configs/demo/dacs.py (the original DACS settings,
# shrunk, from the demo source-only checkpoint; its own row is the
# comparison) plus the MIC term of configs/mic/gta2cs_deeplabv2.py
# ('separatetrgaug', r = 0.7) with the block scaled to the demo's 128x128
# crops: b = 8, the same 16 x 16 grid per crop as b = 32 on 512 crops (the
# demo images are the real sizes / 4). Same 300 iterations of batch 2 + 2.
# MIC keeps its own jitter strength 0.2 (the MIC release's) where this DACS
# uses the original DACS's 0.25; MIC was released on DAFormer's DACS only.
_base_ = ['./dacs.py', '../mic/_base_/mic.py']
model = dict(uda_terms=[
    _base_.model.uda_terms[0],
    dict(_base_.mic_term, mask_block_size=8)
])
