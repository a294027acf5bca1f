# Runtime shared by every mmseg_uda config (with the flip TTA of
# `tools/test.py --tta`).
_base_ = ['./tta_flip.py']
custom_imports = dict(imports=['mmseg_uda'], allow_failed_imports=False)
default_scope = 'mmseg'
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),  # gloo is chosen by tools/ without CUDA
)
# Drops DDP's device_ids on CPU so tools/dist_train.sh also runs there.
model_wrapper_cfg = dict(type='DeviceAwareDistributedDataParallel')
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
# Run safety (README "Multi-GPU training and run safety"): the class counts
# of model and data are checked at start; a non-finite loss stops the run
# before the update (action='skip' skips such steps instead); the ranks'
# buffers (BN statistics) are averaged before every validation and save;
# torch is seeded per iteration from (seed, iteration), so --resume draws
# the same dropout masks as an uninterrupted run.
# A config that sets custom_hooks keeps these with
# `custom_hooks = _base_.custom_hooks + [...]`.
custom_hooks = [
    dict(type='ClassCountCheckHook'),
    dict(type='NonFiniteLossHook', action='stop'),
    dict(type='AverageBuffersHook'),
    dict(type='IterationSeedHook'),
]
