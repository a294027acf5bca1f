# Multi-level DeepLab-V2: a second ASPP-sum classifier ("low" output) on
# layer3, trained with 0.1 x the source CE.
_base_ = './deeplabv2_r101.py'
model = dict(
    auxiliary_head=dict(
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
            avg_non_ignore=True)))
