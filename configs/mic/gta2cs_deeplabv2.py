# MIC on DACS in the DAFormer framework, DAFormer's own DeepLab-V2,
# GTA5 -> Cityscapes (19 classes) (METHODS.md sec. 7.1, 7.6): everything of
# configs/dacs/gta2cs_deeplabv2_daformer.py (ResNetV1c-101 from ImageNet,
# d6 + d12 summing head, DAFormer's `dacs` base: alpha 0.99, no crop-row
# band, no RCS, no feature distance; AdamW 6e-5, head 10x, warm-up 1500,
# poly 1.0, 40k; 512x512 crops, batch 2 + 2) plus masked image consistency
# as a second term: mode 'separatetrgaug' (the two target crops, own
# colour jitter p 0.8 / strength 0.2 and blur p 0.5 in one call), block
# mask b = 32 ("half the patch size" at half resolution, sec. 7.6 last
# line), r = 0.7, lambda 1, on DACS's pseudo-label and weight (no second
# teacher).
# Paper number: the MIC paper's Table 1 row DeepLabV2 + DACS + MIC (the
# release's experiments.py id 81, `dacs` with `dlv2red` / `r101v1c`, mean
# of seeds 0, 1, 2); METHODS.md sec. 7.8 had no text of that table: take the
# number from the paper. Not MIC(HRDA)'s 75.9 (HRDA, not built here) nor
# MIC(DAFormer)'s 70.6 (MiT-B5; a number not in the READMEs).
# Evaluation: 1024x512 input, whole image, full-resolution labels, final
# checkpoint (as the release).
_base_ = ['../dacs/gta2cs_deeplabv2_daformer.py', './_base_/mic.py']
model = dict(uda_terms=[_base_.model.uda_terms[0], _base_.mic_term])
