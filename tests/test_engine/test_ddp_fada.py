"""FADA under 2-process CPU (gloo) DDP through mmengine's default wrapper:
the segmentation network *and* the discriminator end identical on both
ranks (each rank saw different images) and every parameter moved."""
import torch
from test_ddp_training import run_ddp


def test_fada_ddp_two_cpu_processes(demo_data, tmp_path):
    options = demo_data.options('fada') + [
        'train_cfg.max_iters=2', 'val_cfg=None', 'val_dataloader=None',
        'val_evaluator=None'
    ]
    ranks = run_ddp('configs/demo/fada.py', tmp_path, options)
    assert ranks[0]['wrapper'] == 'DeviceAwareDistributedDataParallel'
    start, end = ranks[0]['start'], ranks[0]['end']
    disc = [n for n in end if n.startswith('uda_terms.0.discriminator.')]
    assert len(disc) == 8  # trunk (2 convs) and two heads, weight + bias
    for name in end:
        torch.testing.assert_close(ranks[1]['start'][name], start[name])
        torch.testing.assert_close(ranks[1]['end'][name], end[name],
                                   msg=lambda m: f'{name}: {m}')
    # Frozen BN holds no parameters and all four ASPP branches are summed,
    # so every parameter trains.
    assert [n for n in end if torch.equal(end[n], start[n])] == []
