"""SafeCheckpointHook and the --resume lookup: a kill (real SIGKILLs, and
crashes injected at each step of a save) or a full disk never leaves the
work dir without a checkpoint that resume continues from."""
import errno
import os
import os.path as osp
import random
import signal
import subprocess
import sys
import time

import pytest
import torch
from checkpoint_toy import make_runner

import mmseg_uda.utils.atomic_write as atomic_write
from mmseg_uda.engine.hooks import SafeCheckpointHook
from mmseg_uda.utils.checkpoint_safety import safe_torch_load
from mmseg_uda.utils.resume import find_resume_checkpoint

TOY = osp.join(osp.dirname(__file__), 'checkpoint_toy.py')


def checkpoints(work_dir):
    return sorted(p for p in os.listdir(work_dir) if p.endswith('.pth'))


def temporaries(work_dir):
    return [p for p in os.listdir(work_dir) if p.endswith('.tmp')]


def weights(runner):
    return [p.detach().clone() for p in runner.model.parameters()]


def test_rotation_keeps_the_newest_and_records_a_relative_path(tmp_path):
    runner = make_runner(tmp_path, max_iters=3, max_keep_ckpts=1)
    runner.train()
    assert checkpoints(tmp_path) == ['iter_3.pth']
    assert (tmp_path / 'last_checkpoint').read_text() == 'iter_3.pth'
    assert temporaries(tmp_path) == []


def test_copied_work_dir_resumes(tmp_path):
    make_runner(tmp_path / 'a', max_iters=2).train()
    os.rename(tmp_path / 'a', tmp_path / 'b')
    assert find_resume_checkpoint(str(tmp_path / 'b')) == str(
        tmp_path / 'b' / 'iter_2.pth')
    # An absolute last_checkpoint (mmengine's own hook) of a moved work dir
    # is found by its file name.
    (tmp_path / 'b' / 'last_checkpoint').write_text(
        str(tmp_path / 'a' / 'iter_2.pth'))
    assert find_resume_checkpoint(str(tmp_path / 'b')) == str(
        tmp_path / 'b' / 'iter_2.pth')


class Crash(BaseException):
    """Stands for the process dying at this point."""


@pytest.mark.parametrize('step', ['write', 'rename', 'last_checkpoint',
                                  'remove'])
def test_a_save_interrupted_at_any_step_leaves_a_resumable_checkpoint(
        tmp_path, monkeypatch, step):
    make_runner(tmp_path / 'full', max_iters=4, max_keep_ckpts=1).train()
    full = torch.load(tmp_path / 'full' / 'iter_4.pth', weights_only=False)
    work = tmp_path / 'part'
    make_runner(work, max_iters=2, max_keep_ckpts=1).train()

    real_replace, real_write = os.replace, atomic_write.atomic_write_bytes

    def crash_in_write(data, path):
        if osp.basename(str(path)) == 'iter_3.pth':
            tmp = osp.join(osp.dirname(str(path)),
                           f'.iter_3.pth.{os.getpid()}.0123abcd.tmp')
            with open(tmp, 'wb') as f:
                f.write(data[:len(data) // 2])
            raise Crash
        return real_write(data, path)

    def crash_on_rename(src, dst):
        if osp.basename(dst) == ('iter_3.pth' if step == 'rename' else
                                 'last_checkpoint'):
            raise Crash
        return real_replace(src, dst)

    if step == 'write':
        monkeypatch.setattr(atomic_write, 'atomic_write_bytes', crash_in_write)
    elif step in ('rename', 'last_checkpoint'):
        monkeypatch.setattr(os, 'replace', crash_on_rename)
    else:
        monkeypatch.setattr(SafeCheckpointHook, '_remove_checkpoint',
                            lambda *a: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        make_runner(work, max_iters=4, resume=True).train()
    monkeypatch.undo()

    latest = find_resume_checkpoint(str(work))
    # last_checkpoint decides: it moves only once iter_3.pth is complete.
    expected = 'iter_3.pth' if step == 'remove' else 'iter_2.pth'
    assert osp.basename(latest) == expected
    resumed = make_runner(work, max_iters=4, resume=True)
    resumed.train()
    assert temporaries(work) == []  # the killed save's file was removed
    part = torch.load(work / 'iter_4.pth', weights_only=False)
    for key, value in full['state_dict'].items():
        torch.testing.assert_close(part['state_dict'][key], value)
    # A checkpoint whose removal was interrupted goes at the next start.
    assert checkpoints(work) == ['iter_4.pth']


def test_full_disk_keeps_the_previous_checkpoint_and_says_so(
        tmp_path, monkeypatch, capsys):
    runner = make_runner(tmp_path, max_iters=2, max_keep_ckpts=1)
    runner.train()

    def no_space(fd):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', no_space)
    runner = make_runner(tmp_path, max_iters=4, resume=True)
    with pytest.raises(OSError, match='No space left'):
        runner.train()
    monkeypatch.undo()
    out = capsys.readouterr()
    message = out.out + out.err
    assert 'Saving checkpoint' in message and 'iter_3.pth' in message
    assert 'iter_2.pth is intact' in message
    assert checkpoints(tmp_path) == ['iter_2.pth']
    assert temporaries(tmp_path) == []
    assert (tmp_path / 'last_checkpoint').read_text() == 'iter_2.pth'
    assert safe_torch_load(str(tmp_path / 'iter_2.pth'))['meta']['iter'] == 2
    resumed = make_runner(tmp_path, max_iters=4, resume=True)
    resumed.train()
    assert resumed.iter == 4


@pytest.mark.parametrize('damage', ['missing', 'corrupt', 'weights_only'])
def test_resume_falls_back_to_the_newest_loadable_checkpoint(
        tmp_path, damage, capsys):
    make_runner(tmp_path, max_iters=3, max_keep_ckpts=3).train()
    named = tmp_path / 'iter_3.pth'
    if damage == 'missing':
        named.unlink()
    elif damage == 'corrupt':
        named.write_bytes(named.read_bytes()[:100])
    else:
        state = torch.load(named, weights_only=False)['state_dict']
        torch.save(dict(state_dict=state), named)
    latest = find_resume_checkpoint(str(tmp_path))
    assert latest == str(tmp_path / 'iter_2.pth')
    out = capsys.readouterr()
    message = out.out + out.err
    assert 'iter_3.pth' in message and 'Resuming from the newest' in message
    if damage == 'weights_only':
        assert 'meta.iter' in message and 'optimizer' in message


def test_resume_without_training_state_says_what_is_missing(tmp_path):
    make_runner(tmp_path / 'a', max_iters=1).train()
    state = torch.load(tmp_path / 'a' / 'iter_1.pth',
                       weights_only=False)['state_dict']
    weights_only = tmp_path / 'weights.pth'
    torch.save(dict(state_dict=state, meta=dict()), weights_only)
    # A work dir holding only such a file.
    (tmp_path / 'b').mkdir()
    torch.save(dict(state_dict=state), tmp_path / 'b' / 'iter_5.pth')
    with pytest.raises(RuntimeError, match='no training state') as err:
        find_resume_checkpoint(str(tmp_path / 'b'))
    assert 'meta.epoch' in str(err.value)
    # mmengine's Runner resuming from it directly (KeyError: 'epoch').
    runner = make_runner(tmp_path / 'c', max_iters=2, resume=True)
    runner._load_from = str(weights_only)
    with pytest.raises(RuntimeError, match='meta.epoch, meta.iter'):
        runner.train()


def test_stale_temporaries_are_removed_at_start(tmp_path):
    make_runner(tmp_path, max_iters=1).train()
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    stale = tmp_path / f'.iter_2.pth.{dead.pid}.0123abcd.tmp'
    stale.write_bytes(b'half a checkpoint')
    alive = tmp_path / f'.iter_2.pth.{os.getppid()}.0123abcd.tmp'
    alive.write_bytes(b'being written by a live process')
    make_runner(tmp_path, max_iters=2, resume=True).train()
    assert not stale.exists()
    assert alive.exists()  # not ours to remove


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.001)
    return False


def test_sigkill_during_saves_always_leaves_a_resumable_checkpoint(tmp_path):
    """Real SIGKILLs of a training process while it saves (max_keep_ckpts=1,
    a checkpoint every iteration; 3 kills, each within 180 s)."""
    work = str(tmp_path / 'work')
    os.mkdir(work)
    pad, max_iters = 2_000_000, 400  # 8 MB per save
    rng = random.Random(0)
    env = dict(os.environ, OMP_NUM_THREADS='1')
    reached = []
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, TOY, work, str(max_iters),
                                 str(pad)], env=env,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            saving = wait_for(
                lambda: checkpoints(work) and temporaries(work), 180)
            assert saving and proc.poll() is None, 'no save to interrupt'
            time.sleep(rng.uniform(0, 0.02))  # somewhere inside the save
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(timeout=30)
        latest = find_resume_checkpoint(work)
        assert latest is not None, os.listdir(work)
        reached.append(safe_torch_load(latest)['meta']['iter'])
    assert reached == sorted(reached) and reached[-1] > 0
    # The last survivor resumes (in this process: same code path).
    resumed = make_runner(work, max_iters=reached[-1] + 1, resume=True,
                          pad=pad)
    resumed.train()
    assert resumed.iter == reached[-1] + 1
    assert temporaries(work) == []
