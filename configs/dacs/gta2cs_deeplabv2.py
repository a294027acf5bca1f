# DACS (Tranheden et al., WACV 2021), GTA5 -> Cityscapes (19 classes), on
# the shared DeepLab-V2 ResNet-101 with the original DACS settings
# (METHODS.md sec. 7.10). Paper number: 52.1 mIoU (the DACS paper's, as
# the DAFormer and HRDA READMEs quote it; sec. 7.8; seeds not stated).
# Batch 2 + 2 random 512x512 crops (GTA5 resized to 1280x720, Cityscapes
# to 1024x512; no flip), SGD 2.5e-4 (classifier 10x), poly 0.9 over 250k
# iterations, mean teacher alpha 0.99 updated after each step, q over the
# batch (0.968), no crop-row band, ClassMix per source image, jitter ->
# blur, seed 1, from the COCO-initialised DeepLab-V2 (load_from; no
# source-only stage). What was read from the original code where
# METHODS.md is silent is listed in ./_base_/dacs_deeplabv2.py and the
# README ("DACS"). Deviations: the final checkpoint is reported (the
# original keeps the best on Cityscapes val), and --resume continues the
# teacher and its counter (the original re-creates neither).
_base_ = ['./_base_/dacs_deeplabv2.py', './_base_/gta2cs_data.py']
