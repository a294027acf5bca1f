# The original DACS (METHODS.md sec. 7.10) on the shared DeepLab-V2
# ResNet-101: network, DACS term and schedule, defined once; the task
# configs (configs/dacs/{gta2cs,synthia2cs}_deeplabv2.py) add their data
# (./gta2cs_data.py, ./synthia2cs_data.py).
#
# Network: caffe-style DeepLab-V2, BGR input minus the caffe mean, logits
# upsampled with align_corners=True. Read from the original DACS code where
# METHODS.md is silent: every BN affine parameter frozen with BN in train
# mode (its Bottleneck sets requires_grad=False on all BN parameters); only
# the d6 and d12 classifier branches summed (the AdaptSegNet early return,
# as MaxSquare); source CE = mean over the non-ignored pixels (its
# CrossEntropy2d; the base head's avg_non_ignore=True).
_base_ = [
    '../../_base_/models/deeplabv2_r101.py',
    '../../_base_/schedules/sgd_poly_10x_head.py',
    '../../_base_/default_runtime.py',
]
# The DACS term as the original runs it: teacher EMA alpha 0.99 applied
# after the optimiser step (here: at the start of the next iteration, with
# the same index); q over the batch with threshold 0.968, no crop-row
# band; ClassMix on each source image's own classes with the ignore label
# kept among the candidates (the line of the released trainUDA.py that
# removes it is commented out; classmix_scope='image' is the form
# METHODS.md sec. 7.10 states); colour jitter with probability 0.8 at
# strength 0.25 (its colorJitter's default, which the caller does not
# override), blur with probability 0.5, sigma ~ U(0.15, 1.15); mixed CE =
# mean over all pixels of w * CE.
dacs_term = dict(
    type='DACS',
    alpha=0.99,
    ema_update='after',
    pseudo_threshold=0.968,
    quality_scope='batch',
    classmix_scope='image_with_ignore',
    color_jitter_p=0.2,
    color_jitter_strength=0.25,
    blur=True)
model = dict(
    backbone=dict(frozen_bn_affine='all'),
    decode_head=dict(num_active_branches=2),
    uda_terms=[dacs_term])
# SGD lr 2.5e-4, classifier 10x, momentum 0.9, weight decay 5e-4, poly 0.9
# over 250k iterations (inherited optimiser: its parameter-group builder is
# MaxSquare's, so RepeatedListingSGD applies PyTorch 1.0's update per
# listing; DACS pins no PyTorch version, README "DACS").
dacs_iters = 250000
train_cfg = dict(max_iters=dacs_iters, val_interval=5000)
# lr0 (1 - i / 250000)^0.9; PolyLR with end=E decays as (1 - i / (E - 1))^0.9
param_scheduler = [dict(_base_.param_scheduler[0], end=dacs_iters + 1)]
default_hooks = dict(checkpoint=dict(interval=5000))
randomness = dict(seed=1)
# The COCO-initialised DeepLab-V2 (no source-only stage; README "DACS":
# DACS's resnet101COCO-41f33a49.pth converted by
# tools/model_converters/deeplabv2_legacy.py --drop-classifier).
load_from = 'checkpoints/deeplabv2_init.pth'
