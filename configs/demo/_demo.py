# Shared shrink settings of the demo configs (`make demo`). Only `demo_*`
# names, so this file can be a second base next to a real config. Nothing
# can be downloaded here, so the demo trains a small DeepLab-V2 (ResNet-50
# layout with 2 blocks per stage and 1/4 of the channels) from scratch on
# the synthetic data of tools/generate_demo_data.py; with no pretrained
# weights the learning rate is raised from 2.5e-4 to 1e-2.
demo_data = 'data/demo'
demo_source_scale = (320, 176)
demo_target_scale = (256, 128)
demo_lr = 1e-2
demo_model = dict(
    backbone=dict(
        depth=50, stage_blocks=(2, 2, 2, 2), base_channels=16,
        stem_channels=16),
    decode_head=dict(in_channels=512))
demo_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(
        type='SafeCheckpointHook', interval=100000, max_keep_ckpts=1,
        save_last=True))
