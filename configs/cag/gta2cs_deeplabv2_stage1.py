# CAG-UDA stage 1 on the shared DeepLab-V2 ResNet-101 (the mission's common
# protocol), GTA5 -> Cityscapes (19 classes). Paper (seed 001): 50.2 mIoU
# is for the released DeepLab-V3+ (gta2cs_stage1.py); no DeepLab-V2 number
# is published.
# As configs/cag/gta2cs_stage1.py, with the shared DeepLab-V2 network
# (caffe BGR mean, ASPP-sum classifier at stride 8): the anchor space is the
# layer4 feature (2048-d, stride 8), so pseudo-labels, target CE and distance
# loss are at stride 8. Starts from the output-level adversarial baseline
# (gta2cs_output_adversarial_deeplabv2.py), its warm-up. Everything else as
# the V3+ stage (assumption).
_base_ = [
    '../_base_/models/deeplabv2_r101.py',
    './_base_/gta2cs_data.py',
    '../_base_/schedules/cag.py',
    '../_base_/default_runtime.py',
    './_base_/cag_terms.py',
]
num_classes = 19
model = dict(
    decode_head=dict(num_classes=num_classes),
    uda_terms=[
        dict(
            _base_.cag_term,
            num_classes=num_classes,
            feature=3,
            feature_dim=2048,
            stage=1)
    ])
custom_hooks = _base_.custom_hooks + [
    dict(
        type='CategoryAnchorHook',
        anchor_dataloader=_base_.anchor_dataloader,
        max_batches=_base_.anchor_batches)
]
load_from = (
    'work_dirs/cag/gta2cs_output_adversarial_deeplabv2/iter_120000.pth')
