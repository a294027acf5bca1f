# DeepLab-V2 ResNet-101 as in the legacy Res_Deeplab code (MaxSquare, depth
# method): caffe-style, ceil-mode max-pool, output stride 8, ASPP-sum
# classifier on layer4. UDAEncoderDecoder is a plain EncoderDecoder for
# single-domain batches and at test time, and adds a method's target terms
# (model.uda_terms) for two-domain batches.
#
# Inputs are BGR 0-255 (mmcv loads BGR) with the caffe mean subtracted and
# no std. Training images are resized to fixed sizes (no crop), so they are
# stacked unpadded.
data_preprocessor = dict(
    type='UDADataPreProcessor',
    mean=[104.00698793, 116.66876762, 122.67891434],
    std=[1.0, 1.0, 1.0],
    bgr_to_rgb=False,
    pad_val=0,
    seg_pad_val=255)
# The multi-level "low" head (same ASPP-sum classifier on layer3, 0.1 x the
# source CE), defined once here so configs can attach it with
# `model = dict(auxiliary_head=_base_.low_head)`; deeplabv2_r101_multi.py
# does exactly that.
low_head = dict(
    type='DeepLabV2Head',
    in_channels=1024,
    in_index=2,
    dilations=(6, 12, 18, 24),
    num_classes=19,
    align_corners=True,
    loss_decode=dict(
        type='CrossEntropyLoss',
        use_sigmoid=False,
        loss_weight=0.1,
        avg_non_ignore=True))
model = dict(
    type='UDAEncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='DeepLabResNet',
        depth=101,
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4),
        style='caffe',
        maxpool_ceil_mode=True,
        out_indices=(0, 1, 2, 3),
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        # MaxSquare trains every BN affine parameter except the stem's;
        # the depth method sets 'all'.
        frozen_bn_affine='stem',
        contract_dilation=False),
    # The same classifier on layer4 (2048 channels) with the full CE:
    # mean over non-ignored pixels, as the legacy CE (ignore 255).
    decode_head=dict(
        low_head,
        in_channels=2048,
        in_index=3,
        loss_decode=dict(low_head['loss_decode'], loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
