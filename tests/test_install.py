"""The installed stack (Makefile ``venv``): the pinned versions, full mmcv
with its ops compiled for the CPU only unless ``MMCV_CUDA_OPS=1`` was asked
for, and one training step on every device this machine has (on a GPU the
plugin must train with that mmcv build: it calls no compiled mmcv op)."""
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS

sys.path.insert(0, osp.join(osp.dirname(__file__), 'test_models',
                            'test_segmentors'))
from test_uda_encoder_decoder import (make_batch, optim_cfg,  # noqa: E402
                                      tiny_model_cfg)

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..'))
DEVICES = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])


def test_pinned_versions():
    import mmcv
    import mmengine
    import mmseg
    assert (mmcv.__version__, mmengine.__version__, mmseg.__version__) == (
        '2.1.0', '0.10.7', '1.2.2')
    assert torch.__version__.split('+')[0] == '2.13.0'


def test_full_mmcv_with_cpu_ops():
    """mmseg imports mmcv.ops (mmcv-lite has none); the Makefile builds the
    ops with CUDA hidden, so no CUDA kernel was compiled, unless
    MMCV_CUDA_OPS=1."""
    import mmcv.ops
    assert mmcv.ops.get_compiler_version()  # the compiled extension loads
    cuda = mmcv.ops.get_compiling_cuda_version()
    if os.environ.get('MMCV_CUDA_OPS') == '1':
        assert cuda != 'not available'
    else:
        assert cuda == 'not available'


def _mmcv_install_command(env: dict) -> str:
    """The mmcv line ``make venv`` would run (``make -n -B``: printed, not
    run)."""
    out = subprocess.run(['make', '-n', '-B', 'venv'], cwd=REPO,
                         env=dict(os.environ, **env), capture_output=True,
                         text=True, check=True).stdout
    joined = out.replace('\\\n', ' ')
    (line, ) = [ln for ln in joined.splitlines()
                if 'pip install' in ln and 'mmcv==' in ln]
    return line


@pytest.mark.skipif(shutil.which('make') is None, reason='no make')
def test_makefile_builds_cpu_ops_unless_asked():
    cpu = _mmcv_install_command({'MMCV_CUDA_OPS': ''})
    assert 'FORCE_CUDA=0' in cpu and 'CUDA_VISIBLE_DEVICES= ' in cpu
    cuda = _mmcv_install_command({'MMCV_CUDA_OPS': '1'})
    assert 'FORCE_CUDA=1' in cuda and 'CUDA_VISIBLE_DEVICES' not in cuda
    assert '--no-cache-dir' in cuda  # not the cached CPU-ops wheel


@pytest.mark.parametrize('device', DEVICES)
def test_a_training_step_on_each_device(device):
    """The UDA segmentor trains (loss finite, weights move) on the CPU and,
    where there is one, on the GPU."""
    torch.manual_seed(0)
    model = MODELS.build(
        tiny_model_cfg(False, dict(type='MaxSquareLoss', loss_weight=0.1)))
    model.init_weights()
    model.to(device)
    wrapper = build_optim_wrapper(model, optim_cfg())
    before = [p.detach().clone() for p in model.parameters()]
    logs = model.train_step(make_batch(0)[0], wrapper)
    assert all(torch.isfinite(torch.as_tensor(v)).all() for v in logs.values())
    moved = [not torch.equal(b, p.detach())
             for b, p in zip(before, model.parameters())]
    assert any(moved)
    assert next(model.parameters()).device.type == device
