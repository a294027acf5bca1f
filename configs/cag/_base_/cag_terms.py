# The two CAG-UDA terms, defined once; task configs attach them with their
# class count.
#
# Warm-up (not released; METHODS.md section 6.1): output-space adversarial
# training as AdaptSegNet single-level: FullyConvDiscriminator (DC-GAN,
# five 4x4/2 convs) on the softmax output upsampled to the crop, BCE with
# source 0 / target 1; the generator term lambda_adv = 0.001 pushes the
# target towards "source"; each domain's D term weighs 0.5 (AdaptSegNet's
# halving). Assumptions (AdaptSegNet's constants): D Adam lr 1e-4, betas
# (0.9, 0.99), poly as the segmentation network.
warmup_term = dict(
    type='OutputAdversarial',
    discriminator=dict(type='FullyConvDiscriminator', in_channels=19),
    adv_weight=0.001,
    disc_weight=0.5)
# A CAG stage (METHODS.md section 6.1), the released defaults: ATI margin
# 2.5 (raw 256-d Euclidean), probability pseudo-labels above 0.95, target
# CE 0.5 x (anchor + probability labels) at stride 4 (not upsampled),
# distance loss 0.7 x (source + target) with SmoothL1 x 10, the "while
# > 5: / 10" rescale and the released masked-mean gradient. The paper's
# form: distance_loss=dict(distance='l2', rescale_above=None,
# gradient='autograd').
cag_term = dict(
    type='CategoryAnchorGuided',
    num_classes=19,
    feature_dim=256,
    feature='head',
    stage=1,
    margin=2.5,
    prob_threshold=0.95,
    target_ce_weight=0.5,
    distance_weight=0.7,
    distance_loss=dict(
        type='AnchorDistanceLoss',
        distance='smooth_l1',
        rescale_above=5.0,
        gradient='released',
        min_pixels=10,
        loss_weight=10.0))
# The warm-up's two optimisers: the base SGD for the segmentation network
# and D's own Adam, one backward pass (MultiOptimWrapper).
warmup_optim_wrapper = dict(
    _delete_=True,
    constructor='MultiOptimWrapperConstructor',
    segmentor=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=1e-4, momentum=0.9, weight_decay=2e-4),
        clip_grad=None),
    discriminator=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.99)),
        clip_grad=None,
        modules=['uda_terms.0.discriminator']))
