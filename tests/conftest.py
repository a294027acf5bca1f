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


class DemoData:  # noqa: E302
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


class TaskData:
    """Tiny SYNTHIA and NTHU datasets in their publishers' layouts (all
    four cities), converted, next to the demo's GTA5/Cityscapes data."""

    def __init__(self, demo: DemoData, root: str) -> None:
        self.roots = dict(
            GTA5Dataset=demo.gta5,
            CityscapesUDADataset=demo.cityscapes,
            SynthiaDataset=osp.join(root, 'synthia'),
            NTHUDataset=osp.join(root, 'nthu'),
            MapillaryDataset=osp.join(root, 'mapillary'))
        # An image list of the Vistas training images, in an order that is
        # not the sorted one (stands in for the release's 9,000-image list).
        self.mapillary_list = osp.join(root, 'mapillary_training_list.txt')
        self._gmms = {}

    def depth_gmm(self, num_classes: int, grid_size) -> str:
        """GMMs fitted on this SYNTHIA by tools/fit_depth_gmm.py (once per
        class count and grid)."""
        key = (num_classes, tuple(grid_size))
        if key not in self._gmms:
            out = osp.join(osp.dirname(self.roots['SynthiaDataset']),
                           f'gmm_{num_classes}_{grid_size[0]}x'
                           f'{grid_size[1]}.json')
            import importlib.util
            spec = importlib.util.spec_from_file_location(
                'fit_depth_gmm', osp.join(REPO, 'tools', 'fit_depth_gmm.py'))
            tool = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(tool)  # in-process: no interpreter start
            assert tool.main([
                self.roots['SynthiaDataset'], '--num-classes',
                str(num_classes), '--grid-size', str(grid_size[0]),
                str(grid_size[1]), '--out', out
            ]) == 0
            self._gmms[key] = out
        return self._gmms[key]


@pytest.fixture(scope='session')
def task_data(demo_data, tmp_path_factory) -> TaskData:
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location(
        'publisher_layouts',
        osp.join(REPO, 'tests', 'test_datasets', 'publisher_layouts.py'))
    layouts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(layouts)
    data = TaskData(demo_data, str(tmp_path_factory.mktemp('task_data')))
    synthia = Path(data.roots['SynthiaDataset'])
    layouts.write_synthia(synthia, num=3, hw=(38, 64))
    nthu = Path(data.roots['NTHUDataset'])
    layouts.write_nthu(nthu, cities=('Rome', 'Rio', 'Tokyo', 'Taipei'),
                       hw=(32, 64))
    # GTA5's official split for the demo's 4 frames (MaxSquare's `train`)
    layouts.write_gta5_split(demo_data.gta5, [1, 2, 3], [4], [])
    _run(['tools/dataset_converters/synthia.py', str(synthia)])
    _run(['tools/dataset_converters/nthu.py', str(nthu)])
    mapillary = Path(data.roots['MapillaryDataset'])
    layouts.write_mapillary(mapillary, num_val=2, num_train=2, hw=(36, 48))
    _run(['tools/dataset_converters/mapillary.py', str(mapillary)])
    names = sorted(p.name for p in (mapillary / 'training/images').iterdir())
    Path(data.mapillary_list).write_text('\n'.join(reversed(names)) + '\n')
    return data


class DepthDemoData:
    """The demo's Cityscapes plus a SYNTHIA-like source with depth maps
    (tools/generate_demo_data.py --num-synthia), converted, with the GMMs
    of configs/demo/depth.py fitted by tools/fit_depth_gmm.py."""

    def __init__(self, demo: DemoData) -> None:
        self.cityscapes = demo.cityscapes
        self.synthia = osp.join(demo.root, 'synthia')
        self.gmm = osp.join(self.synthia, 'gmm_7_41x25.json')

    def options(self) -> list:
        """``--cfg-options`` pointing configs/demo/depth.py at this data."""
        opts = [
            f'train_dataloader.dataset.source.data_root={self.synthia}',
            f'train_dataloader.dataset.target.data_root={self.cityscapes}',
            f'model.uda_terms.0.gmm_file={self.gmm}', 'load_from=None'
        ]
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
            opts += [f'{loader}.num_workers=0',
                     f'{loader}.persistent_workers=False']
        for loader in ('val_dataloader', 'test_dataloader'):
            opts.append(f'{loader}.dataset.data_root={self.cityscapes}')
        return opts


@pytest.fixture(scope='session')
def depth_demo_data(demo_data) -> DepthDemoData:
    data = DepthDemoData(demo_data)
    _run(['tools/generate_demo_data.py', demo_data.root, '--num-source', '0',
          '--num-target', '0', '--num-val', '0', '--num-synthia', '3'])
    _run(['tools/dataset_converters/synthia.py', data.synthia])
    _run(['tools/fit_depth_gmm.py', data.synthia, '--num-classes', '7',
          '--grid-size', '41', '25', '--out', data.gmm])
    return data
