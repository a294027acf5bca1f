# MIC(DAFormer), GTA5 -> Cityscapes (19 classes) (METHODS.md sec. 7.6):
# everything of configs/daformer/gta2cs.py (MiT-B5 + DAFormer head; DACS
# alpha 0.999 with the pseudo-label crop 15 / 120, rare-class sampling
# T 0.01 / 0.5, thing-class ImageNet feature distance; AdamW 6e-5, head
# 10x, warm-up 1500, poly 1.0 over 40k; 512x512 crops, batch 2 + 2) plus
# masked image consistency as the last term: mode 'separatetrgaug' (the
# two target crops, own colour jitter p 0.8 / strength 0.2 and blur p 0.5
# in one call), block mask b = 32 ("half the patch size" at half
# resolution), r = 0.7, lambda 1, on DACS's pseudo-label and weight (no
# second teacher). Terms: [DACS, feature distance, MIC]; MIC only needs to
# follow DACS, whose results it reads.
# Paper number: 70.6 mIoU, which METHODS.md sec. 7.8 marks unverified (not
# in the READMEs; a secondary source; mean of 3 seeds by the README's rule).
# Evaluation: Cityscapes val at 1024x512, whole image, full-resolution
# labels, final checkpoint (as the release).
_base_ = ['../daformer/gta2cs.py', './_base_/mic.py']
model = dict(uda_terms=[*_base_.model.uda_terms, _base_.mic_term])
