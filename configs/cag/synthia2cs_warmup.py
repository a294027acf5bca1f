# CAG-UDA warm-up, SYNTHIA -> Cityscapes (16 classes, with the 13-class
# mIoU*), the released DeepLab-V3+ ResNet-101 (METHODS.md sections 4 and 6.1).
# Paper (seed 001): the warm-up is not reported on its own; the full chain
# (this, then synthia2cs_stage1/2/3.py) reports 52.6 mIoU* (13 classes, Table
# 2). Output-space adversarial training (configs/cag/_base_/cag_terms.py, all
# constants AdaptSegNet's, an assumption: the warm-up is not released),
# source CE on the logits upsampled to the 896x512 crop. Schedule
# (assumption, as the released stages): the CAG SGD (lr 1e-4, one group)
# with configs/_base_/schedules/cag.py's poly over 90k stepped before the
# optimiser step (iteration k from 0 uses (1 - (k + 1) / 90000)^0.9; an
# AdaptSegNet loop would use (1 - k / H)^0.9), for as many iterations as a
# stage (62,412); D Adam 1e-4 with the same poly. Batch 4 + 4, SyncBN (on
# several GPUs not the release's: README, CAG-UDA deviations), the stages'
# Pillow resizing.
# Initialisation (assumption): ImageNet ResNet-101, converted with
# tools/model_converters/torchvision_resnet.py to the path below.
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
    uda_terms=[
        dict(
            _base_.warmup_term,
            discriminator=dict(
                _base_.warmup_term.discriminator, in_channels=num_classes))
    ])
optim_wrapper = _base_.warmup_optim_wrapper
load_from = 'checkpoints/resnet101_torchvision.pth'
