# The depth-distribution model (seed 004; METHODS.md sec. 1, 5, 6.3): the
# shared DeepLab-V2 ResNet-101 (caffe style, all four ASPP branches summed)
# with every BN affine parameter frozen and BN in train mode, a
# class-weighted source CE (PyTorch's weighted mean; the released weights by
# default, 'released-16' / 'released-7'; a class_stats.json path derives
# them as w_c = 1 / (C f_c); the Mapillary tasks use `unweighted_ce`), and
# the depth term: depth and density heads on layer4 (weights N(0, 0.01),
# biases PyTorch's default, as the release), the per-class GMM density
# targets, berHu balance and depth losses and the DC-GAN discriminator on
# entropy x density (model.uda_terms).
#
# ImageNet weights (the release starts from the ImageNet DeepLab init in
# the legacy Res_Deeplab layout): tools/model_converters/deeplabv2_legacy.py
# SRC checkpoints/deeplabv2_imagenet.pth --drop-classifier, then load_from.
_base_ = './deeplabv2_r101.py'
model = dict(
    backbone=dict(frozen_bn_affine='all'),
    decode_head=dict(
        loss_decode=dict(
            _delete_=True,
            type='ClassWeightedCrossEntropyLoss',
            class_weight='released-16',
            num_classes=16)))
# The depth term, defined once; a task config attaches it with its class
# count, GMM file, grid and per-task weights (METHODS.md 6.2):
#   uda_terms=[dict(_base_.depth_term, num_classes=..., gmm_file=...)]
depth_term = dict(
    type='DepthDistribution',
    num_classes=16,
    gmm_file=None,
    grid_size=(161, 96),
    num_components=5,
    in_channels=2048,
    source_balance_weight=0.01,
    depth_weight=0.005,
    target_balance_weight=0.05,
    adv_weight=0.05,
    # The release's D loss BCE(D(m_s), 0) + BCE(D(m_t), 1), unhalved
    # (METHODS.md 6.4).
    disc_weight=1.0)
# The Mapillary tasks' source CE: unweighted in the release (the class
# weights are the Cityscapes tasks'; METHODS.md 6.4), the mean over labelled
# pixels. A Mapillary config states
#   decode_head=dict(loss_decode=dict(_base_.unweighted_ce, _delete_=True))
unweighted_ce = dict(
    type='CrossEntropyLoss',
    use_sigmoid=False,
    loss_weight=1.0,
    avg_non_ignore=True)
