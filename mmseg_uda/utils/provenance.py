"""What code and which machine produced a figure: one line each, for the
benchmark scripts and the demo summary."""
import os
import os.path as osp
import platform
import subprocess

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def code_commit(length: int = 12) -> str:
    """The checkout's commit, ``+dirty`` with uncommitted changes to
    tracked files.

    Args:
        length (int): Characters of the hash.

    Returns:
        str: E.g. ``'ab143be5a123'``, or ``'unknown'`` outside a git
        checkout.
    """

    def git(*args: str) -> str:
        return subprocess.run(['git', *args], cwd=REPO, capture_output=True,
                              text=True, check=True,
                              timeout=10).stdout.strip()

    try:
        head = git('rev-parse', f'--short={length}', 'HEAD')
        dirty = git('status', '--porcelain', '--untracked-files=no')
    except (OSError, subprocess.SubprocessError):
        return 'unknown'
    return head + ('+dirty' if dirty else '')


def machine_description() -> str:
    """CPU model, core count, GPU, OS, Python, torch and its threads."""
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    gpu = (torch.cuda.get_device_name(0)
           if torch.cuda.is_available() else 'no GPU')
    return (f'{cpu}, {os.cpu_count()} cores, {gpu}, '
            f'{platform.system()} {platform.release()}, '
            f'Python {platform.python_version()}, torch {torch.__version__} '
            f'({torch.get_num_threads()} threads)')
