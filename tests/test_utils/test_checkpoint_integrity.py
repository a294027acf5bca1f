"""Integrity records: checkpoints saved through the project's saving paths
(SafeCheckpointHook, the converters, CAG's anchor files) carry the SHA-256
of every tensor; bytes flipped in a tensor, in the pickle or in the zip
structure, and truncation, are refused by every load path naming the file
(and the tensor); --resume falls back past a damaged newest checkpoint and
resumes from a URL in last_checkpoint."""
import functools
import hashlib
import http.server
import os
import os.path as osp
import shutil
import threading
import types
import zipfile

import pytest
import torch
from checkpoint_corruption import (flip_bytes, flip_tensor_bytes, record_data,
                                   tensor_record)
from checkpoint_toy import ToyModel, make_runner
from mmengine.runner.checkpoint import CheckpointLoader, load_checkpoint

import mmseg_uda.utils.checkpoint_integrity as checkpoint_integrity
from mmseg_uda.engine.hooks.category_anchor_hook import (load_anchor_file,
                                                         save_anchor_file)
from mmseg_uda.models.utils.checkpoint_converters import \
    convert_checkpoint_file
from mmseg_uda.utils.checkpoint_integrity import CorruptCheckpointError
from mmseg_uda.utils.checkpoint_safety import (UnsafeCheckpointError,
                                               safe_torch_load)
from mmseg_uda.utils.resume import find_resume_checkpoint

#: Floats of the toy model's constant buffer: most of the file, so that
#: a flip in the middle of the file lands in it.
PAD = 65536


def load_paths(path):
    """The loaders behind load_from / tools/test.py / the pseudo-label
    tool (mmengine's load_checkpoint), --resume's check and the converters
    (safe_torch_load), and scheme dispatch (CheckpointLoader)."""
    return [
        lambda: load_checkpoint(ToyModel(PAD), str(path)),
        lambda: safe_torch_load(str(path)),
        lambda: CheckpointLoader.load_checkpoint(str(path)),
    ]


def assert_refused(path, *words):
    for load in load_paths(path):
        with pytest.raises(CorruptCheckpointError) as err:
            load()
        for word in (str(path), ) + words:
            assert word in str(err.value), str(err.value)


def test_saved_record_digests_the_bytes_in_the_archive(tmp_path):
    make_runner(tmp_path, max_iters=1, pad=16).train()
    path = tmp_path / 'iter_1.pth'
    checkpoint = torch.load(path, weights_only=False)
    record = checkpoint['meta']['integrity']
    assert record['algorithm'] == 'sha256'
    assert {
        'state_dict.linear.weight', 'state_dict.linear.bias',
        'state_dict.pad', 'optimizer.state.0.momentum_buffer',
        'optimizer.state.1.momentum_buffer'
    } == set(record['tensors'])
    with zipfile.ZipFile(path) as archive:
        for key in ('linear.weight', 'pad'):
            tensor = checkpoint['state_dict'][key]
            data = archive.read(tensor_record(path, tensor))
            header = f'{tensor.dtype}{tuple(tensor.shape)}'.encode()
            assert record['tensors'][f'state_dict.{key}'] == hashlib.sha256(
                header + data).hexdigest()


def test_flipped_tensor_is_refused_and_resume_falls_back(tmp_path, capsys):
    make_runner(tmp_path / 'full', max_iters=4, pad=PAD).train()
    work = tmp_path / 'part'
    make_runner(work, max_iters=3, max_keep_ckpts=3, pad=PAD).train()
    newest = work / 'iter_3.pth'
    flip_tensor_bytes(newest, ('state_dict', 'pad'), 64)
    assert_refused(newest, 'state_dict.pad', '1 of its 5 tensors differs')
    # load_from of a training run
    runner = make_runner(tmp_path / 'other', max_iters=1, pad=PAD)
    runner._load_from = str(newest)
    with pytest.raises(CorruptCheckpointError, match='state_dict.pad'):
        runner.train()
    # --resume: the previous checkpoint, saying why
    capsys.readouterr()
    assert find_resume_checkpoint(str(work)) == str(work / 'iter_2.pth')
    out = capsys.readouterr()
    message = out.out + out.err
    assert f'{newest}: it cannot be loaded (CorruptCheckpointError' in message
    assert 'state_dict.pad' in message
    resumed = make_runner(work, max_iters=4, resume=True, pad=PAD)
    resumed.train()
    full = torch.load(tmp_path / 'full' / 'iter_4.pth', weights_only=False)
    for key, value in full['state_dict'].items():
        torch.testing.assert_close(resumed.model.state_dict()[key], value)


def test_4k_flip_mid_file_is_refused(tmp_path):
    make_runner(tmp_path, max_iters=1, pad=PAD).train()
    path = tmp_path / 'iter_1.pth'
    offset, size = record_data(
        path,
        tensor_record(path,
                      torch.load(path, weights_only=False)['state_dict']
                      ['pad']))
    middle = osp.getsize(path) // 2 - 2048
    assert offset <= middle and middle + 4096 <= offset + size
    flip_bytes(path, middle, 4096)
    assert_refused(path, 'state_dict.pad')


def test_damage_outside_tensor_bytes_is_refused(tmp_path):
    make_runner(tmp_path, max_iters=2, max_keep_ckpts=2, pad=16).train()
    # a byte of the pickle (metadata, optimiser settings, message hub)
    pickled = tmp_path / 'iter_1.pth'
    with zipfile.ZipFile(pickled) as archive:
        name = next(n for n in archive.namelist() if n.endswith('/data.pkl'))
    offset, size = record_data(pickled, name)
    flip_bytes(pickled, offset + size // 2, 1)
    assert_refused(pickled, 'data.pkl', 'CRC-32')
    # the local header of a tensor record: torch's own reader fails
    header = tmp_path / 'iter_2.pth'
    with zipfile.ZipFile(header) as archive:
        info = next(i for i in archive.infolist() if '/data/' in i.filename)
    flip_bytes(header, info.header_offset, 4)
    assert_refused(header, 'truncated or damaged', 'PytorchStreamReader')


def test_truncated_checkpoint_names_the_file_and_the_remedy(tmp_path):
    make_runner(tmp_path, max_iters=1, pad=16).train()
    path = tmp_path / 'iter_1.pth'
    path.write_bytes(path.read_bytes()[:osp.getsize(path) // 2])
    assert_refused(path, 'truncated or damaged', 'copy or download it again',
                   '--resume falls back to the previous checkpoint')


def test_unrecorded_checkpoint_loads_with_one_line(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(checkpoint_integrity, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    path = tmp_path / 'foreign.pth'
    torch.save(dict(state_dict=ToyModel().state_dict()), path)
    load_checkpoint(ToyModel(), str(path))
    safe_torch_load(str(path))
    assert logged == [
        f'Checkpoint {path} has no integrity record (saved by another tool '
        'or an older mmseg_uda): its tensors were not verified'
    ]


def test_edited_checkpoint_names_what_changed_and_the_way_out(tmp_path):
    make_runner(tmp_path, max_iters=1, pad=16).train()
    path = tmp_path / 'iter_1.pth'
    checkpoint = torch.load(path, weights_only=False)
    del checkpoint['state_dict']['pad']
    checkpoint['state_dict']['extra'] = torch.zeros(1)
    torch.save(checkpoint, path)
    with pytest.raises(CorruptCheckpointError) as err:
        safe_torch_load(str(path))
    message = str(err.value)
    assert '1 recorded tensors are missing: state_dict.pad' in message
    assert '1 tensors are not in the record: state_dict.extra' in message
    assert "remove meta['integrity']" in message
    del checkpoint['meta']['integrity']
    torch.save(checkpoint, path)
    assert 'extra' in safe_torch_load(str(path))['state_dict']


def test_converter_output_is_recorded_and_verified(tmp_path):
    src = tmp_path / 'resnet.pth'
    torch.save({'conv1.weight': torch.randn(8, 3, 7, 7),
                'fc.weight': torch.randn(2, 8)}, src)
    dst = tmp_path / 'converted.pth'
    convert_checkpoint_file(str(src), str(dst), 'torchvision_resnet')
    assert 'state_dict.backbone.conv1.weight' in torch.load(
        dst, weights_only=False)['meta']['integrity']['tensors']
    safe_torch_load(str(dst))
    flip_tensor_bytes(dst, ('state_dict', 'backbone.conv1.weight'))
    with pytest.raises(CorruptCheckpointError) as err:
        load_checkpoint(torch.nn.Module(), str(dst))
    assert str(dst) in str(err.value)
    assert 'state_dict.backbone.conv1.weight (float32, shape (8, 3, 7, 7))' \
        in str(err.value)


class NotAllowed:
    """A class no checkpoint loader should instantiate."""


def test_anchor_files_are_recorded_verified_and_refusals_named(tmp_path):
    term = types.SimpleNamespace(
        anchors=torch.randn(4, 64), anchor_counts=torch.arange(4) + 1,
        stage_index=1, num_classes=4, feature_dim=64)
    path = tmp_path / 'anchors.pth'
    save_anchor_file(str(path), term, 'warmup.pth')
    anchors, counts = load_anchor_file(str(path))
    assert torch.equal(anchors, term.anchors)
    flip_tensor_bytes(path, ('anchors', ))
    with pytest.raises(CorruptCheckpointError) as err:
        load_anchor_file(str(path))
    for word in (f'CAG anchor file {path}', 'anchors (float32',
                 'anchor_dataloader instead of anchor_file'):
        assert word in str(err.value)
    torch.save(dict(anchors=anchors, counts=counts, x=NotAllowed()), path)
    with pytest.raises(UnsafeCheckpointError) as err:
        load_anchor_file(str(path))
    for word in (f'CAG anchor file {path}', 'NotAllowed',
                 'anchor_dataloader instead of anchor_file'):
        assert word in str(err.value)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    timeout = 10

    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path):
    """A loopback HTTP server of ``tmp_path / 'remote'``."""
    root = tmp_path / 'remote'
    root.mkdir()
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def test_url_in_last_checkpoint_resumes_from_that_url(tmp_path, served,
                                                      monkeypatch, capsys):
    root, url = served
    make_runner(tmp_path / 'full', max_iters=4).train()
    make_runner(root, max_iters=2, max_keep_ckpts=2).train()
    # torch.hub's cache holds another run's iter_2.pth under that name
    home = tmp_path / 'torch_home'
    monkeypatch.setenv('TORCH_HOME', str(home))
    cache = home / 'hub' / 'checkpoints'
    cache.mkdir(parents=True)
    shutil.copy(root / 'iter_1.pth', cache / 'iter_2.pth')
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'last_checkpoint').write_text(f'{url}/iter_2.pth')
    assert find_resume_checkpoint(str(work)) == f'{url}/iter_2.pth'
    capsys.readouterr()
    resumed = make_runner(work, max_iters=4, resume=True)
    resumed.train()
    out = capsys.readouterr()
    assert 'resumed epoch: 0, iter: 2' in out.out + out.err
    full = torch.load(tmp_path / 'full' / 'iter_4.pth', weights_only=False)
    for key, value in full['state_dict'].items():
        torch.testing.assert_close(resumed.model.state_dict()[key], value)
    assert os.listdir(cache) == ['iter_2.pth']  # neither used nor replaced
    assert torch.load(cache / 'iter_2.pth',
                      weights_only=False)['meta']['iter'] == 1
