"""Every checkpoint source mmengine's CheckpointLoader dispatches to loads
with weights_only=True and the allow-list: a pickle whose unpickling would
create a marker folder is refused, over a loopback HTTP server or through a
patched scheme loader, and the payload never runs."""
import functools
import http.server
import io
import os
import os.path as osp
import pathlib
import shutil
import sys
import threading
import types

import mmengine.runner.checkpoint as mmengine_checkpoint
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.model.weight_init import PretrainedInit
from mmengine.runner.checkpoint import CheckpointLoader, load_checkpoint
from torch import nn

import mmseg_uda  # noqa: F401  (installs the safe loaders)
from mmseg_uda.models.utils.checkpoint_converters import \
    convert_checkpoint_file
from mmseg_uda.utils.checkpoint_safety import UnsafeCheckpointError


class Payload:
    """Unpickling this creates ``marker`` (a stand-in for any command)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker, ))


class _BoundMkdir:
    """Pickles as ``getattr(Path(marker), 'mkdir')``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __call__(self):  # pickle wants a callable; never called here
        raise AssertionError

    def __reduce__(self):
        return (getattr, (pathlib.Path(self.marker), 'mkdir'))


class GetattrPayload(Payload):
    """The same through ``getattr(...)()``, which the allow-list's
    restricted ``getattr`` stand-in must refuse too."""

    def __reduce__(self):
        return (_BoundMkdir(self.marker), ())


def evil_checkpoint(path, marker, payload=Payload):
    torch.save(
        dict(state_dict=nn.Linear(2, 1).state_dict(), x=payload(marker)),
        path)
    return str(path)


@pytest.mark.parametrize('payload', [Payload, GetattrPayload])
def test_the_payloads_are_real(tmp_path, payload):
    marker = tmp_path / 'payload_ran'
    path = evil_checkpoint(tmp_path / 'evil.pth', str(marker), payload)
    torch.load(path, weights_only=False)
    assert marker.is_dir()


def mmengine_like_checkpoint(path):
    """Weights plus the types mmengine itself pickles (message hub)."""
    buffer = HistoryBuffer()
    buffer.update(1.0)
    torch.save(
        dict(
            state_dict=nn.Linear(2, 1).state_dict(),
            message_hub=dict(log_scalars=dict(loss=buffer))), path)
    return str(path)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    timeout = 10

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A loopback-only HTTP server for ``tmp_path/www``, bounded in time;
    downloads are cached below ``tmp_path`` only."""
    root = tmp_path / 'www'
    root.mkdir()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    httpd.timeout = 10
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


@pytest.mark.parametrize('payload', [Payload, GetattrPayload])
def test_http_checkpoint_with_code_is_refused(server, tmp_path, payload):
    root, url = server
    marker = tmp_path / 'payload_ran'
    evil_checkpoint(root / 'evil.pth', str(marker), payload)
    with pytest.raises(UnsafeCheckpointError) as err:
        load_checkpoint(nn.Linear(2, 1), f'{url}/evil.pth')
    assert f'{url}/evil.pth' in str(err.value)
    assert not marker.exists()


def test_http_checkpoint_of_mmengine_types_loads(server):
    root, url = server
    mmengine_like_checkpoint(root / 'good.pth')
    checkpoint = CheckpointLoader.load_checkpoint(f'{url}/good.pth')
    assert isinstance(checkpoint['message_hub']['log_scalars']['loss'],
                      HistoryBuffer)


def test_torch_load_is_restored_after_a_load(server):
    root, url = server
    mmengine_like_checkpoint(root / 'good.pth')
    CheckpointLoader.load_checkpoint(f'{url}/good.pth')
    assert torch.load is mmengine_checkpoint.torch.load
    assert torch.load.__module__ == 'torch.serialization'


@pytest.fixture
def evil(tmp_path):
    marker = tmp_path / 'payload_ran'
    return evil_checkpoint(tmp_path / 'evil.pth', str(marker)), marker


def refused(source, marker):
    with pytest.raises(UnsafeCheckpointError) as err:
        CheckpointLoader.load_checkpoint(source, map_location='cpu')
    assert not marker.exists()
    return str(err.value)


def test_https_is_refused(evil, monkeypatch, tmp_path):
    """https:// goes through the same torch.hub download as http://; the
    download is patched to copy the local file (no TLS server here)."""
    path, marker = evil
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setattr(torch.hub, 'download_url_to_file',
                        lambda url, dst, *a, **k: shutil.copy(path, dst))
    assert 'https://example.org/evil.pth' in refused(
        'https://example.org/evil.pth', marker)


@pytest.mark.parametrize('prefix', ['torchvision://', 'modelzoo://'])
def test_torchvision_scheme_is_refused(server, prefix, monkeypatch,
                                       tmp_path):
    root, url = server
    marker = tmp_path / 'payload_ran'
    evil_checkpoint(root / 'tv.pth', str(marker))
    monkeypatch.setattr(mmengine_checkpoint, 'get_torchvision_models',
                        lambda: dict(resnet_evil=f'{url}/tv.pth'))
    assert f'{prefix}resnet_evil' in refused(f'{prefix}resnet_evil', marker)
    assert not marker.exists()


@pytest.mark.parametrize('prefix', ['open-mmlab://', 'openmmlab://'])
def test_open_mmlab_scheme_is_refused(server, prefix, monkeypatch, tmp_path):
    root, url = server
    marker = tmp_path / 'payload_ran'
    evil_checkpoint(root / 'om.pth', str(marker))
    home = tmp_path / 'mmengine_home'
    home.mkdir()
    evil_checkpoint(home / 'local.pth', str(marker))
    monkeypatch.setenv('MMENGINE_HOME', str(home))
    monkeypatch.setattr(
        mmengine_checkpoint, 'get_external_models',
        lambda: dict(remote_evil=f'{url}/om.pth', local_evil='local.pth'))
    assert f'{prefix}remote_evil' in refused(f'{prefix}remote_evil', marker)
    assert not marker.exists()
    assert f'{prefix}local_evil' in refused(f'{prefix}local_evil', marker)
    assert not marker.exists()


def test_mmcls_scheme_is_refused(server, monkeypatch, tmp_path):
    root, url = server
    marker = tmp_path / 'payload_ran'
    evil_checkpoint(root / 'cls.pth', str(marker))
    monkeypatch.setattr(mmengine_checkpoint, 'get_mmcls_models',
                        lambda: dict(cls_evil=f'{url}/cls.pth'))
    assert 'mmcls://cls_evil' in refused('mmcls://cls_evil', marker)
    assert not marker.exists()


def test_pavi_scheme_is_refused(evil, monkeypatch):
    path, marker = evil

    class Model:
        name = 'evil.pth'

        def download(self, dst):
            shutil.copy(path, dst)

    pavi = types.ModuleType('pavi')
    pavi.modelcloud = types.SimpleNamespace(get=lambda name: Model())
    monkeypatch.setitem(sys.modules, 'pavi', pavi)
    source = 'pavi://models/evil.pth'
    assert source in refused(source, marker)
    assert not marker.exists()


@pytest.mark.parametrize(
    'source', ['s3://bucket/evil.pth', 'petrel://bucket/evil.pth',
               'open-mmlab:s3://bucket/evil.pth'])
def test_object_store_schemes_are_refused(evil, source, monkeypatch):
    path, marker = evil
    data = open(path, 'rb').read()
    monkeypatch.setattr(
        mmengine_checkpoint, 'get_file_backend',
        lambda *a, **k: types.SimpleNamespace(get=lambda name: data))
    assert source in refused(source, marker)


def test_a_scheme_registered_later_is_refused(evil):
    path, marker = evil

    def load_from_evil(filename, map_location=None):
        # A careless third-party loader asking for full unpickling.
        return torch.load(path, map_location=map_location,
                          weights_only=False)

    CheckpointLoader.register_scheme('evil://', load_from_evil)
    try:
        assert 'evil://anything' in refused('evil://anything', marker)
        assert not marker.exists()
        with open(path, 'rb') as f:
            buffer = io.BytesIO(f.read())
        CheckpointLoader.register_scheme(
            'evil://', lambda name, loc=None: torch.load(buffer), force=True)
        assert 'evil://buffer' in refused('evil://buffer', marker)
        assert not marker.exists()
    finally:
        CheckpointLoader._schemes.pop('evil://')


def test_pretrained_init_cfg_url_is_refused(server, tmp_path):
    root, url = server
    marker = tmp_path / 'payload_ran'
    evil_checkpoint(root / 'init.pth', str(marker))
    with pytest.raises(UnsafeCheckpointError):
        PretrainedInit(checkpoint=f'{url}/init.pth')(nn.Linear(2, 1))
    with pytest.raises(UnsafeCheckpointError):
        PretrainedInit(
            checkpoint=f'{url}/init.pth', prefix='state_dict.')(nn.Linear(
                2, 1))
    assert not marker.exists()


def test_converter_refuses_a_remote_checkpoint(server, tmp_path):
    root, url = server
    marker = tmp_path / 'payload_ran'
    evil_checkpoint(root / 'conv.pth', str(marker))
    with pytest.raises(UnsafeCheckpointError):
        convert_checkpoint_file(f'{url}/conv.pth', str(tmp_path / 'out.pth'),
                                'torchvision_resnet')
    assert not marker.exists()
    assert not osp.exists(tmp_path / 'out.pth')
