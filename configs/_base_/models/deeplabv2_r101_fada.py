# FADA's DeepLab-V2 ResNet-101 (METHODS.md section 3): the torchvision
# ResNet-101 (pytorch style: stride on the 3x3 conv; floor-mode max-pool)
# dilated like torchvision's replace_stride_with_dilation=[False, True, True]
# (output stride 8; the first block of layer3 keeps dilation 1, of layer4
# has dilation 2, the other blocks 2 / 4), every BN frozen (statistics and
# affine fixed, no eps in the frozen formula), ImageNet mean/std on RGB
# inputs, and the ASPP-sum classifier with all four branches. The layer4
# feature (2048-d, stride 8) feeds FADA's discriminator (model.uda_terms).
#
# ImageNet weights: convert torchvision's resnet101 checkpoint with
# tools/model_converters/torchvision_resnet.py and load it with load_from
# (README, "FADA").
_base_ = './deeplabv2_r101.py'
data_preprocessor = dict(
    type='UDADataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        style='pytorch',
        contract_dilation=True,
        maxpool_ceil_mode=False,
        # FrozenBN keeps its statistics and affine as buffers: nothing to
        # train, nothing for DDP to synchronise.
        norm_cfg=dict(_delete_=True, type='FrozenBN', eps=0.),
        norm_eval=True,
        frozen_bn_affine='none'))
# The FADA term (METHODS.md section 3), defined once; a method config
# attaches it with its task's class count:
#   uda_terms=[dict(_base_.fada_term, discriminator=dict(
#       _base_.fada_term.discriminator, num_classes=num_classes))]
fada_term = dict(
    type='FineGrainedAdversarial',
    discriminator=dict(
        type='FineGrainedDiscriminator', num_classes=19, in_channels=2048),
    adv_weight=0.001,
    disc_weight=0.5,
    clip=0.9)
