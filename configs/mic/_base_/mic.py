# The MIC term as the release's GTA5/SYNTHIA -> Cityscapes configs set it
# (METHODS.md sec. 7.6): the two target crops, colour-augmented with fresh
# gates (jitter p 0.8, strength 0.2; blur p 0.5, drawn whatever DACS's
# `blur`), one jitter order and one sigma for the batch; block mask r = 0.7
# with b = 32 for 512 crops at half resolution (MIC(DAFormer) and the
# DeepLab-V2 rows; b = 64 for MIC(HRDA)'s 1024 crops); lambda 1; DACS's
# pseudo-label and weight (mask_alpha = mask_pseudo_threshold = 'same').
# Listed after the DACS term: model.uda_terms = [<DACS>, mic_term].
mic_term = dict(
    type='MaskedImageConsistency',
    mode='separatetrgaug',
    mask_ratio=0.7,
    mask_block_size=32,
    color_jitter_p=0.2,
    color_jitter_strength=0.2,
    masked_loss=dict(
        type='CrossEntropyLoss',
        loss_weight=1.0,
        avg_non_ignore=False,
        loss_name='loss_mic'))
