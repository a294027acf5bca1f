"""The tools with hostile, foreign, damaged, incomplete and interrupted
checkpoints: train.py and test.py refuse a pickle with code served over
loopback HTTP (payload not run) and a checkpoint of another architecture
(naming it); test.py and the pseudo-label tool refuse a checkpoint whose
tensor bytes changed and one without the head (naming file, tensor and
keys), the pseudo-label tool without claiming its output folder; the
pseudo-label tool and the model converters killed (SIGKILL) midway and
rerun finish."""
import functools
import http.server
import importlib.util
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import threading
import time

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from mmseg_uda.utils.checkpoint_integrity import (CorruptCheckpointError,
                                                  save_checkpoint_file)
from mmseg_uda.utils.weight_matching import IncompleteCheckpointError

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
sys.path.insert(0, osp.join(REPO, 'tests', 'test_utils'))
from checkpoint_corruption import flip_tensor_bytes  # noqa: E402

FADA = 'configs/demo/fada.py'
SOURCE_ONLY = 'configs/demo/source_only.py'
#: The DeepLab-V2 classifier: what a checkpoint of another head lacks.
HEAD = 'decode_head.aspp_convs'
TEST_SCALE = (128, 64)


class Payload:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker, ))


def run(cmd, ok=True, env=None):
    env = dict(os.environ, OMP_NUM_THREADS='1', **(env or {}))
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert (proc.returncode == 0) == ok, out[-5000:]
    return out


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    timeout = 10

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    root = tmp_path / 'www'
    root.mkdir()
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def test_train_and_test_refuse_code_over_http(demo_data, server, tmp_path):
    root, url = server
    marker = tmp_path / 'payload_ran'
    torch.save(dict(state_dict={}, x=Payload(str(marker))), root / 'evil.pth')
    env = dict(TORCH_HOME=str(tmp_path / 'torch_home'))
    out = run([sys.executable, 'tools/train.py', 'configs/demo/maxsquare.py',
               '--work-dir', str(tmp_path / 'work'), '--cfg-options'] +
              demo_data.options('maxsquare') +
              [f'load_from={url}/evil.pth', 'train_cfg.max_iters=1'],
              ok=False, env=env)
    assert f'Refusing to load checkpoint {url}/evil.pth' in out
    assert 'posix.mkdir' in out
    out = run([sys.executable, 'tools/test.py', 'configs/demo/maxsquare.py',
               f'{url}/evil.pth', '--work-dir', str(tmp_path / 'work'),
               '--cfg-options'] + demo_data.options('maxsquare'),
              ok=False, env=env)
    assert f'Refusing to load checkpoint {url}/evil.pth' in out
    assert not marker.exists()


def test_test_tool_refuses_another_architecture(demo_data, tmp_path):
    path = tmp_path / 'pspnet_r50.pth'
    torch.save(
        dict(state_dict={
            'backbone.stem.0.weight': torch.zeros(32, 3, 3, 3),
            'decode_head.conv_seg.weight': torch.zeros(19, 512, 1, 1)
        }), path)
    out = run([sys.executable, 'tools/test.py', 'configs/demo/maxsquare.py',
               str(path), '--work-dir', str(tmp_path / 'work'),
               '--cfg-options'] + demo_data.options('maxsquare'), ok=False)
    assert f'Refusing to load {path}' in out
    assert f'Loaded weights from {path}: 0 of' in out


def demo_checkpoint(path, config, drop=()):
    """A demo model saved through the project's saving path (with its
    integrity record), without the state-dict keys starting with
    ``drop``."""
    cfg = Config.fromfile(osp.join(REPO, config))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    state = {
        k: v
        for k, v in model.state_dict().items() if not k.startswith(drop)
    }
    save_checkpoint_file(dict(state_dict=state, meta=dict()), path)
    return str(path)


def test_test_tool_refuses_headless_and_damaged_checkpoints(
        demo_data, tmp_path):
    test = [sys.executable, 'tools/test.py', SOURCE_ONLY]
    options = ['--work-dir', str(tmp_path / 'work'), '--cfg-options'
               ] + demo_data.options('source_only')
    headless = demo_checkpoint(tmp_path / 'headless.pth', SOURCE_ONLY,
                               drop=(HEAD, ))
    out = run(test + [headless] + options, ok=False)
    assert f'IncompleteCheckpointError: Refusing {headless} for evaluation' \
        in out
    assert f'{HEAD}.* (' in out and f'{HEAD}.0.weight' in out
    damaged = demo_checkpoint(tmp_path / 'damaged.pth', SOURCE_ONLY)
    flip_tensor_bytes(damaged, ('state_dict', 'backbone.conv1.weight'))
    out = run(test + [damaged] + options, ok=False)
    assert ('CorruptCheckpointError: Refusing to load checkpoint '
            f'{damaged}: 1 of its') in out
    assert 'state_dict.backbone.conv1.weight (float32' in out


def load_tool():
    path = osp.join(REPO, 'tools', 'generate_pseudo_labels.py')
    spec = importlib.util.spec_from_file_location('generate_pseudo_labels2',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def fada_checkpoint(tmp_path_factory):
    cfg = Config.fromfile(osp.join(REPO, FADA))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    path = tmp_path_factory.mktemp('ckpt') / 'fada.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return str(path)


def pseudo_argv(demo_data, ckpt, out):
    return [
        FADA, ckpt, '--out',
        str(out), '--device', 'cpu', '--num-workers', '0', '--cfg-options',
        f'train_dataloader.dataset.target.data_root={demo_data.cityscapes}',
        f'test_dataloader.dataset.pipeline.1.scale={TEST_SCALE}'
    ]


def labels(out):
    return sorted(
        osp.relpath(osp.join(root, name), out)
        for root, _, names in os.walk(out) for name in names
        if name.endswith('_pseudoTrainIds.png'))


def test_refused_checkpoint_does_not_claim_the_pseudo_label_folder(
        demo_data, fada_checkpoint, tmp_path):
    from mmseg_uda.utils.checkpoint_safety import UnsafeCheckpointError
    tool = load_tool()
    marker = tmp_path / 'payload_ran'
    evil = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, x=Payload(str(marker))), evil)
    out = tmp_path / 'pseudo'
    with pytest.raises(UnsafeCheckpointError, match='evil.pth'):
        tool.main(pseudo_argv(demo_data, str(evil), out))
    assert not marker.exists()
    assert not (out / 'pseudo_labels.json').exists()
    # A rerun with a good checkpoint is not blocked.
    tool.main(pseudo_argv(demo_data, fada_checkpoint, out))
    meta = json.loads((out / 'pseudo_labels.json').read_text())
    assert meta['checkpoint'] == fada_checkpoint
    assert len(labels(out)) == 4


def test_pseudo_label_tool_refuses_headless_and_damaged_checkpoints(
        demo_data, tmp_path):
    tool = load_tool()
    out = tmp_path / 'pseudo'
    headless = demo_checkpoint(tmp_path / 'headless.pth', FADA,
                               drop=(HEAD, ))
    with pytest.raises(IncompleteCheckpointError) as err:
        tool.main(pseudo_argv(demo_data, headless, out))
    assert str(err.value).startswith(
        f'Refusing {headless} for pseudo-label generation')
    assert f'{HEAD}.0.weight' in str(err.value)
    damaged = demo_checkpoint(tmp_path / 'damaged.pth', FADA)
    flip_tensor_bytes(damaged, ('state_dict', 'backbone.conv1.weight'))
    with pytest.raises(CorruptCheckpointError) as err:
        tool.main(pseudo_argv(demo_data, damaged, out))
    assert str(damaged) in str(err.value)
    assert 'state_dict.backbone.conv1.weight' in str(err.value)
    assert not (out / 'pseudo_labels.json').exists()
    # The method's own state (FADA's discriminator) is not needed.
    without_terms = demo_checkpoint(tmp_path / 'network.pth', FADA,
                                    drop=('uda_terms.', ))
    tool.build_model(Config.fromfile(osp.join(REPO, FADA)), without_terms,
                     'cpu')


def test_killed_pseudo_label_tool_resumes_and_finishes(
        demo_data, fada_checkpoint, tmp_path):
    out = tmp_path / 'pseudo'
    cmd = [sys.executable, 'tools/generate_pseudo_labels.py'] + pseudo_argv(
        demo_data, fada_checkpoint, out)
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.Popen(cmd, cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not labels(out) and time.monotonic() < deadline:
            time.sleep(0.005)
        first = labels(out)
        assert first and proc.poll() is None, 'nothing to interrupt'
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    done = labels(out)
    assert 0 < len(done) < 4
    mtimes = {p: os.stat(out / p).st_mtime_ns for p in done}
    log = run(cmd)
    assert f'{len(done)} of 4 pseudo-labels already in' in log
    assert len(labels(out)) == 4
    # Nothing already written was lost or redone; no temporary file left.
    assert {p: os.stat(out / p).st_mtime_ns for p in done} == mtimes
    assert not [n for _, _, names in os.walk(out) for n in names
                if n.endswith('.tmp')]


def test_killed_model_converter_reruns_and_finishes(tmp_path):
    """The converter is SIGKILLed at the worst moment (output fully written
    to its temporary file, not yet renamed), then rerun."""
    src = tmp_path / 'resnet.pth'
    torch.save({'conv1.weight': torch.ones(8, 3, 7, 7),
                'fc.weight': torch.ones(2, 8)}, src)
    dst = tmp_path / 'out' / 'converted.pth'
    tool = osp.join(REPO, 'tools/model_converters/torchvision_resnet.py')
    killer = (
        'import os, signal, sys, runpy\n'
        'real = os.replace\n'
        'def replace(a, b):\n'
        '    if b.endswith("converted.pth"):\n'
        '        os.kill(os.getpid(), signal.SIGKILL)\n'
        '    real(a, b)\n'
        'os.replace = replace\n'
        f'sys.argv = [{tool!r}, {str(src)!r}, {str(dst)!r}]\n'
        f'sys.path.insert(0, {REPO!r})\n'
        f'runpy.run_path({tool!r}, run_name="__main__")\n')
    proc = subprocess.run([sys.executable, '-c', killer], cwd=REPO,
                          capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL
    assert not dst.exists() and len(os.listdir(dst.parent)) == 1  # the tmp
    out = run([sys.executable, tool, str(src), str(dst)])
    assert 'Saved' in out
    assert os.listdir(dst.parent) == ['converted.pth']
    converted = torch.load(dst, weights_only=True)
    assert torch.equal(converted['state_dict']['backbone.conv1.weight'],
                       torch.ones(8, 3, 7, 7))
