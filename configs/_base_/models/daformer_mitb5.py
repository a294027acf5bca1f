# DAFormer's network (METHODS.md sec. 7.2): MiT-B5 encoder (MMSeg's
# MixVisionTransformer with the release's LayerNorm eps 1e-5 in the patch
# embeddings and spatial-reduction norms, 1e-6 elsewhere; stochastic depth
# linear from 0 to 0.1 over the 52 blocks) and the DAFormer head
# ("sepaspp": 256-dim linear embeddings of F1..F4 at stride 4, ASPP without
# pooling on the 1024-channel concatenation, dilations 1/6/12/18 with
# depth-wise separable branches, 3x3 bottleneck, Dropout2d 0.1, 1x1
# classifier; plain BN). RGB input with the ImageNet mean/std; logits
# upsampled bilinearly with align_corners=False; whole-image inference.
# The source CE is the mean over all pixels, ignored ones included (mmseg
# 0.16's default, avg_non_ignore=False; METHODS.md 7.1 step 3).
#
# The encoder starts from SegFormer's ImageNet-1k mit_b5 weights converted
# by MMSeg's mit2mmseg.py (README "DAFormer": checkpoints/mit_b5.pth, keys
# in MMSeg's layout); a config sets `pretrained` to them.
mit_b5_imagenet = 'checkpoints/mit_b5.pth'
data_preprocessor = dict(
    type='UDADataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='UDAEncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='ReleaseMixVisionTransformer',
        in_channels=3,
        embed_dims=64,
        num_stages=4,
        num_layers=[3, 6, 40, 3],
        num_heads=[1, 2, 5, 8],
        patch_sizes=[7, 3, 3, 3],
        strides=[4, 2, 2, 2],
        sr_ratios=[8, 4, 2, 1],
        out_indices=(0, 1, 2, 3),
        mlp_ratio=4,
        qkv_bias=True,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.1,
        norm_cfg=dict(type='LN', eps=1e-6),
        patch_embed_norm_eps=1e-5,
        sr_norm_eps=1e-5),
    decode_head=dict(
        type='DAFormerHead',
        in_channels=[64, 128, 320, 512],
        in_index=[0, 1, 2, 3],
        channels=256,
        embed_dims=256,
        fusion='sepaspp',
        dilations=(1, 6, 12, 18),
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            avg_non_ignore=False)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
