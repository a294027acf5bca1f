"""Cost of the checkpoint integrity record on a ResNet-101 checkpoint.

Builds the project's DeepLab-V2 ResNet-101 (configs/_base_/models/
deeplabv2_r101.py, 19 classes) and a training checkpoint as
``SafeCheckpointHook`` writes it (weights, SGD momentum buffers, meta),
then times, as medians over ``--repeats`` runs:

* saving atomically (``torch.save`` to memory, temporary file, fsync,
  rename: what mmengine's ``save_checkpoint`` does for a local file)
  without the integrity record, and through mmengine's ``save_checkpoint``
  with it (:mod:`mmseg_uda.utils.checkpoint_integrity`);
* loading with ``torch.load(weights_only=True)`` and the allow-list only,
  and with the project's loader (``safe_torch_load``: archive and pickle
  CRC check, every tensor's SHA-256 recomputed and compared).

Loads read the file from the page cache (it was just written), so they
show the CPU cost, not the disk's.

Example::

    python tools/benchmark_checkpoint.py --repeats 5
"""
import argparse
import datetime
import io
import os
import os.path as osp
import statistics
import sys
import tempfile
import time
from typing import Callable, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..'))
import mmseg_uda  # noqa: E402,F401  (saving and loading patches)
import mmseg_uda.utils.checkpoint_integrity as integrity  # noqa: E402
import mmseg_uda.utils.checkpoint_safety as safety  # noqa: E402
from mmseg_uda.utils import provenance  # noqa: E402
from mmseg_uda.utils.atomic_write import atomic_write_bytes  # noqa: E402

MODEL_CONFIG = osp.join(
    osp.dirname(osp.abspath(__file__)), '..', 'configs', '_base_', 'models',
    'deeplabv2_r101.py')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument(
        '--out-dir', help='where the checkpoints are written (default: a '
        'temporary folder, removed after)')
    return parser.parse_args(argv)


def training_checkpoint() -> dict:
    """A DeepLab-V2 R101 checkpoint with SGD momentum, as a run saves it."""
    register_all_modules(init_default_scope=False)
    init_default_scope('mmseg')
    cfg = Config.fromfile(MODEL_CONFIG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=2.5e-4, momentum=0.9)
    for p in params:
        optimizer.state[p]['momentum_buffer'] = torch.randn_like(p)
    return dict(
        meta=dict(epoch=0, iter=10000, seed=0, experiment_name='benchmark'),
        state_dict={k: v.detach()
                    for k, v in model.state_dict().items()},
        optimizer=optimizer.state_dict(),
        message_hub=dict(log_scalars={}, runtime_info={}))


def median_time(function: Callable[[], object], repeats: int) -> float:
    times: List[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def plain_save(checkpoint: dict, path: str) -> None:
    """mmengine's local save without the record: memory, then atomic."""
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    atomic_write_bytes(buffer.getvalue(), path)


def plain_load(path: str) -> object:
    with torch.serialization.safe_globals(safety.SAFE_CHECKPOINT_GLOBALS):
        return torch.load(path, map_location='cpu', weights_only=True)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    from mmengine.runner.checkpoint import save_checkpoint
    checkpoint = training_checkpoint()
    named = integrity.named_tensors(checkpoint)
    num_bytes = sum(t.numel() * t.element_size() for _, t in named)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out_dir or tmp
        os.makedirs(folder, exist_ok=True)
        plain = osp.join(folder, 'without_record.pth')
        recorded = osp.join(folder, 'with_record.pth')
        rows = [
            ('save, no record',
             median_time(lambda: plain_save(checkpoint, plain),
                         args.repeats)),
            ('save, with record',
             median_time(lambda: save_checkpoint(checkpoint, recorded),
                         args.repeats)),
            ('  of which SHA-256 of the tensors',
             median_time(lambda: integrity.tensor_digests(named),
                         args.repeats)),
            ('load, weights_only + allow-list',
             median_time(lambda: plain_load(recorded), args.repeats)),
            ('load, verified (safe_torch_load)',
             median_time(lambda: safety.safe_torch_load(recorded),
                         args.repeats)),
        ]
        sizes = (osp.getsize(plain), osp.getsize(recorded))
    print(f'{datetime.date.today()}, commit {provenance.code_commit()}, '
          f'{provenance.machine_description()}, load average '
          f'{os.getloadavg()[0]:.2f}')
    print(f'DeepLab-V2 ResNet-101 training checkpoint: {len(named)} tensors, '
          f'{num_bytes / 2**20:.1f} MiB of tensor data; file '
          f'{sizes[0] / 2**20:.1f} MiB without record, '
          f'+{(sizes[1] - sizes[0]) / 2**10:.1f} KiB with it; medians of '
          f'{args.repeats} runs')
    for name, seconds in rows:
        print(f'| {name:<36} | {seconds:7.3f} s |')


if __name__ == '__main__':
    main()
