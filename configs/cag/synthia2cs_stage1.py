# CAG-UDA stage 1, SYNTHIA -> Cityscapes (16 classes, with the 13-class
# mIoU*), DeepLab-V3+ ResNet-101 (METHODS.md sections 4 and 6.1). Paper
# (seed 001) Table 2: 52.6 mIoU* (13 classes) after the whole chain (warm-up,
# stages 1-3; the paper gives no per-stage numbers).
# Starts from the warm-up's final model; at iteration 0 CategoryAnchorHook
# checks that, copies it into the frozen prediction model and computes the
# anchors (eval mode, base-size source images, 2972 batches of 4; saved to
# <work_dir>/anchors.pth and in every checkpoint). Loss:
#   CE_src + 0.5 (CE_t(anchor labels) + CE_t(prob labels))
#   + 0.7 (L_dis_s + L_dis_t)
# with the released defaults of configs/cag/_base_/cag_terms.py. SGD lr
# 1e-4 (one group), momentum 0.9, wd 2e-4, poly over 90k stepped before
# the optimiser step as released (iteration k from 0 uses
# 1e-4 (1 - (k + 1) / 90000)^0.9), 62,412 iterations (84 target epochs),
# batch 4 + 4, dropouts active in training, SyncBN (on several GPUs the
# release's normalises with clamp(var, eps)^-1/2, torch's with
# (var + eps)^-1/2: README, CAG-UDA deviations; one GPU is plain BN).
# Every resize is Pillow's (bilinear images, nearest labels).
# SYNTHIA -> Cityscapes has no released config: the GTA5 settings with 16
# classes and SYNTHIA's base size 1280x760 (an assumption).
_base_ = [
    '../_base_/models/deeplabv3plus_r101.py',
    './_base_/synthia2cs_data.py',
    '../_base_/schedules/cag.py',
    '../_base_/default_runtime.py',
    './_base_/cag_terms.py',
]
num_classes = 16
model = dict(
    decode_head=dict(num_classes=num_classes),
    uda_terms=[dict(_base_.cag_term, num_classes=num_classes, stage=1)])
custom_hooks = _base_.custom_hooks + [
    dict(
        type='CategoryAnchorHook',
        anchor_dataloader=_base_.anchor_dataloader,
        max_batches=_base_.anchor_batches)
]
load_from = 'work_dirs/cag/synthia2cs_warmup/iter_62412.pth'
