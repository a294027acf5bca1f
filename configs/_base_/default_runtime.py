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
