# MaxSquare's target term with DAFormer's rare-class sampling (RCS) and
# thing-class ImageNet feature distance (FD), GTA5 -> Cityscapes (19
# classes). Paper number: none. No paper reports this combination: it
# composes seed 003's target loss with the two source-side strategies of
# DAFormer (METHODS.md 7.3, 7.4) on DAFormer's 512x512 data pipeline, to
# show RCS and FD working with another method's term (a DAFormer-style DACS
# config adds the same two pieces to the DACS term; none is written yet).
# Network: FADA's DeepLab-V2 (torchvision ResNet-101, ImageNet weights,
# frozen BN, output stride 8), because FD needs a backbone with ImageNet
# weights (its frozen copy) and a floor-mode stem whose 64x64 layer4 tiles
# the 512 crop exactly (8x8 label cells); section 1's caffe-style network
# is COCO-initialised and gives 65x65. One stage from ImageNet, as DAFormer
# trains: source CE + 0.1 MaxSquare(target) + 0.005 FD, plain SGD 2.5e-4
# (classifier 10x, momentum 0.9, wd 5e-4), poly 0.9 over 40k iterations,
# batch 2 + 2.
_base_ = [
    '../_base_/models/deeplabv2_r101_fada.py',
    '../_base_/datasets/uda_gta5_to_cityscapes_512x512.py',
    '../_base_/schedules/sgd_poly_10x_head.py',
    '../_base_/default_runtime.py',
    '../_base_/uda/rcs.py',
    '../_base_/uda/fd.py',
]
# torchvision's ImageNet ResNet-101 converted by
# tools/model_converters/torchvision_resnet.py (README, "FADA").
imagenet = 'checkpoints/resnet101_torchvision.pth'
model = dict(uda_terms=[
    dict(
        type='TargetOutputLoss',
        loss=dict(type='MaxSquareLoss', loss_weight=0.1)),
    dict(_base_.imnet_feature_distance, pretrained=imagenet),
])
train_dataloader = dict(
    sampler=_base_.rcs_sampler, dataset=_base_.rare_class_sampling)
optim_wrapper = dict(_delete_=True, **_base_.plain_sgd_optim_wrapper)
iters = 40000
train_cfg = dict(max_iters=iters, val_interval=4000)
param_scheduler = [dict(_base_.param_scheduler[0], end=iters + 1)]
load_from = imagenet
