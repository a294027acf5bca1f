# "Output-level adversarial" baseline (AdaptSegNet, single-level output
# space), GTA5 -> Cityscapes (19 classes) on the shared DeepLab-V2
# ResNet-101 (METHODS.md section 1). Paper number: 41.4 mIoU (seed 001
# Table 1, "AdaptSegNet"; AdaptSegNet's own single-level result). It is also
# the warm-up of the DeepLab-V2 CAG chain (gta2cs_deeplabv2_stage1.py).
# The CAG warm-up term (configs/cag/_base_/cag_terms.py: FullyConvDiscriminator
# on the upsampled softmax, BCE source 0 / target 1, lambda_adv 0.001, D
# terms 0.5 each). Assumptions (AdaptSegNet's published settings): the
# MaxSquare DeepLab-V2 schedule (SGD 2.5e-4, head 10x, momentum 0.9, wd
# 5e-4, poly over 250k, stopped at 120k), D Adam 1e-4 betas (0.9, 0.99),
# batch 1 + 1, resize GTA5 1280x720 / Cityscapes 1024x512 without flip or
# blur; initialised from the converted DeepLab-V2 COCO init weights
# (tools/model_converters/deeplabv2_legacy.py --drop-classifier).
_base_ = [
    '../_base_/models/deeplabv2_r101.py',
    '../_base_/datasets/gta5_to_cityscapes.py',
    '../_base_/schedules/sgd_poly_10x_head.py',
    '../_base_/default_runtime.py',
    './_base_/cag_terms.py',
]
num_classes = 19
model = dict(
    decode_head=dict(num_classes=num_classes),
    uda_terms=[
        dict(
            _base_.warmup_term,
            discriminator=dict(
                _base_.warmup_term.discriminator, in_channels=num_classes))
    ])
optim_wrapper = dict(
    _delete_=True,
    constructor='MultiOptimWrapperConstructor',
    # plain SGD (AdaptSegNet-style, each tensor updated once per step)
    segmentor=_base_.plain_sgd_optim_wrapper,
    discriminator=_base_.warmup_optim_wrapper.discriminator)
poly_horizon = 250000
param_scheduler = [dict(_base_.param_scheduler[0], end=poly_horizon + 1)]
train_cfg = dict(max_iters=120000)
no_augmentation = ('RandomFlip', 'RandomGaussianBlur')
train_dataloader = dict(
    dataset=dict(
        source=dict(pipeline=[
            t for t in _base_.source_pipeline
            if t.type not in no_augmentation
        ]),
        target=dict(pipeline=[
            t for t in _base_.target_pipeline
            if t.type not in no_augmentation
        ])))
load_from = 'checkpoints/deeplabv2_init.pth'
