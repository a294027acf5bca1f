"""The depth method under 2-process CPU (gloo) DDP through mmengine's
default wrapper: segmentation network, depth/density heads and
discriminator end identical on both ranks (each saw different images), and
every trainable parameter moved (BN affine stays frozen)."""
import torch
from test_ddp_training import run_ddp


def test_depth_ddp_two_cpu_processes(depth_demo_data, tmp_path):
    options = depth_demo_data.options() + [
        'train_cfg.max_iters=2', 'val_cfg=None', 'val_dataloader=None',
        'val_evaluator=None'
    ]
    ranks = run_ddp('configs/demo/depth.py', tmp_path, options)
    assert ranks[0]['wrapper'] == 'DeviceAwareDistributedDataParallel'
    start, end = ranks[0]['start'], ranks[0]['end']
    for part in ('depth_head', 'density_head', 'discriminator'):
        assert any(n.startswith(f'uda_terms.0.{part}.') for n in end), part
    for name in end:
        torch.testing.assert_close(ranks[1]['start'][name], start[name])
        torch.testing.assert_close(ranks[1]['end'][name], end[name],
                                   msg=lambda m: f'{name}: {m}')
    frozen = [n for n in end if 'bn' in n or 'downsample.1' in n]
    assert frozen and all(torch.equal(end[n], start[n]) for n in frozen)
    moved = [n for n in end if not torch.equal(end[n], start[n])]
    assert set(moved) == set(end) - set(frozen)
