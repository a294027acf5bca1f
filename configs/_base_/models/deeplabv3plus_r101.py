# DeepLab-V3+ ResNet-101 of the CAG-UDA release (METHODS.md sections 4 and
# 6.1): torchvision-style ResNet-101 (pytorch style: stride on the 3x3;
# single 7x7 stem, floor-mode max-pool), output stride 16 (layer3 stride 2,
# layer4 stride 1) with the layer4 multi-grid (1, 2, 4) x dilation 2, i.e.
# block dilations 2, 4, 8 (mmseg's `multi_grid` holds the products);
# DeepLabV3PlusHead: ASPP 1x1 + 3x3 d6/d12/d18 + image pooling (conv, BN,
# ReLU each), 1x1 projection + BN + ReLU + Dropout 0.5, decoder with the
# layer1 skip (1x1 to 48), two 3x3 convs (BN, ReLU, Dropout 0.5 / 0.1), the
# 1x1 classifier at stride 4. Its 256-d pre-classifier feature is CAG's
# anchor space. Input RGB / 255 (no mean, std 255).
#
# BN: synchronised BN in train mode (SyncBN needs a GPU process group; for
# CPU runs set norm_cfg.type=BN in backbone and decode_head, see README).
# Released weights: tools/model_converters/cag_deeplabv3plus.py.
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='UDADataPreProcessor',
    mean=[0., 0., 0.],
    std=[255., 255., 255.],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='UDAEncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='DeepLabResNet',
        depth=101,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        multi_grid=(2, 4, 8),
        style='pytorch',
        maxpool_ceil_mode=False,
        contract_dilation=False,
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        norm_eval=False),
    decode_head=dict(
        type='DeepLabV3PlusHead',
        in_channels=(256, 2048),
        in_index=(0, 3),
        channels=256,
        dilations=(6, 12, 18),
        skip_channels=48,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=True,
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
