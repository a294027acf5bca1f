"""Shared test set-up: MMSeg's registries with mmseg_uda's components, in
the 'mmseg' default scope that configs use."""
from mmseg.utils import register_all_modules

import mmseg_uda  # noqa: F401

register_all_modules(init_default_scope=True)


import os.path as osp  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..'))


class DemoData:
    """A tiny synthetic GTA5 -> Cityscapes dataset in the real on-disk
    layouts, generated and converted once per test session."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.gta5 = osp.join(root, 'gta5')
        self.cityscapes = osp.join(root, 'cityscapes')

    def options(self, config: str) -> list:
        """``--cfg-options`` pointing a configs/demo config at this data,
        without dataloader workers and without ``load_from``."""
        uda = config != 'source_only'
        source = ('train_dataloader.dataset.source' if uda else
                  'train_dataloader.dataset')
        opts = [f'{source}.data_root={self.gta5}']
        if uda:
            opts.append('train_dataloader.dataset.target.data_root='
                        f'{self.cityscapes}')
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
            opts += [f'{loader}.num_workers=0',
                     f'{loader}.persistent_workers=False']
        for loader in ('val_dataloader', 'test_dataloader'):
            opts.append(f'{loader}.dataset.data_root={self.cityscapes}')
        return opts + ['load_from=None']


def _run(args):
    proc = subprocess.run([sys.executable] + args, cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]


@pytest.fixture(scope='session')
def demo_data(tmp_path_factory) -> DemoData:
    data = DemoData(str(tmp_path_factory.mktemp('demo_data')))
    _run(['tools/generate_demo_data.py', data.root, '--num-source', '4',
          '--num-target', '4', '--num-val', '2'])
    _run(['tools/dataset_converters/gta5.py', data.gta5])
    _run(['tools/dataset_converters/cityscapes.py', data.cityscapes])
    return data
