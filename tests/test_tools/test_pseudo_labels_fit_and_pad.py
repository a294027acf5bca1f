"""Spatial-prior pseudo-labels of fitted-and-padded (Mapillary) inputs:
tools/generate_pseudo_labels.py's ``refined_label`` crops the fitted part
of a ``FitAndPad`` input and nearest-resizes it to the image's own size;
the tool writes labels of each image's size on the generated Mapillary
data, and the self-training config reads them."""
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmseg.registry import DATASETS, MODELS

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CONFIG = osp.join(REPO, 'configs/depth/synthia2mapillary_7.py')
SELF_TRAINING = osp.join(REPO,
                         'configs/depth/synthia2mapillary_7_self_training.py')
# Six BGR colours, one per class 0..5, in 2 x 3 blocks of the image; the
# padding (0 before mean subtraction, black) is class 6.
PALETTE = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0),
           (255, 0, 255), (0, 255, 255), (0, 0, 0)]
PAD_CLASS = 6


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = load_module('generate_pseudo_labels',
                   osp.join(REPO, 'tools', 'generate_pseudo_labels.py'))


def block_classes(hw):
    """Class of every pixel of a (H, W) image in 2 x 3 blocks, and a mask
    of the pixels more than 1 pixel away from a block boundary."""
    height, width = hw
    rows = (np.arange(height) * 2) // height
    cols = (np.arange(width) * 3) // width
    classes = rows[:, None] * 3 + cols[None, :]
    inner_r = (np.abs(np.diff(rows, prepend=rows[0])) +
               np.abs(np.diff(rows, append=rows[-1]))) == 0
    inner_c = (np.abs(np.diff(cols, prepend=cols[0])) +
               np.abs(np.diff(cols, append=cols[-1]))) == 0
    inner_r[1:-1] &= inner_r[:-2] & inner_r[2:]
    inner_c[1:-1] &= inner_c[:-2] & inner_c[2:]
    return classes, inner_r[:, None] & inner_c[None, :]


class ColourHead(nn.Module):
    """Logits at stride 8 of each pixel's nearest palette colour (raw
    pixel values, i.e. before the preprocessor's mean subtraction)."""

    def __init__(self, mean: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer(
            'centres',
            torch.tensor(PALETTE, dtype=torch.float32) - mean.view(1, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.avg_pool2d(x, 8, ceil_mode=True)  # (1, 3, h, w)
        dist = ((x[:, None] - self.centres[None, :, :, None, None])**2).sum(2)
        return -0.01 * dist  # gaps of ~100 nats: confident away from edges


class StubSegmentor(nn.Module):
    """What ``refined_label`` uses of an EncoderDecoder."""

    def __init__(self, data_preprocessor: nn.Module) -> None:
        super().__init__()
        self.data_preprocessor = data_preprocessor
        self.decode_head = ColourHead(data_preprocessor.mean)
        self.align_corners = True

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs


# (image (H, W), its fitted part in 1280x760 by hand): wider than 1280/760
# pads the bottom, narrower (Mapillary's usual 4:3) the right.
@pytest.mark.parametrize('hw,fitted', [
    ((36, 48), (760, 1013)),  # s = min(1280/48, 760/36) = 21.11: 48 s = 1013.3
    ((20, 48), (533, 1280)),  # s = min(1280/48, 760/20) = 26.67: 20 s = 533.3
    ((50, 30), (760, 456)),  # portrait: s = 760/50 = 15.2, 30 s = 456
])
def test_refined_label_undoes_fit_and_pad(hw, fitted, tmp_path):
    cfg = Config.fromfile(CONFIG)
    classes, inner = block_classes(hw)
    img = np.array(PALETTE, dtype=np.uint8)[classes]
    path = str(tmp_path / 'image.png')  # lossless: exact colours
    cv2.imwrite(path, img)
    pipeline = Compose(tool.inference_pipeline(
        cfg.test_dataloader.dataset.pipeline))
    batch = pseudo_collate([pipeline(dict(img_path=path))])
    meta = batch['data_samples'][0].metainfo
    assert tuple(meta['fitted_shape']) == fitted
    assert tuple(meta['img_shape']) == (760, 1280)
    assert tuple(meta['source_shape']) == hw
    model = StubSegmentor(MODELS.build(cfg.model.data_preprocessor)).eval()
    refinement = tool.refinement_settings(cfg, 7)
    with torch.no_grad():
        label = tool.refined_label(model, batch, refinement)
    assert label.shape == hw and label.dtype == np.uint8
    # the padding (class 6 where the crop is wrong) is gone ...
    assert PAD_CLASS not in label
    # ... and every block is where it is in the image (away from the
    # blurred block edges, where a label may be a neighbour's or ignore)
    assert inner.sum() > 0.2 * inner.size
    np.testing.assert_array_equal(label[inner], classes[inner])
    edges = label[~inner]
    assert set(np.unique(edges).tolist()) <= set(range(6)) | {255}


def test_tool_on_mapillary_and_self_training_reads_it(task_data, tmp_path):
    test_configs = load_module('test_configs_shrink',
                               osp.join(REPO, 'tests', 'test_configs.py'))
    cfg = Config.fromfile(CONFIG)
    test_configs.shrink(cfg, task_data)  # tiny network, generated roots
    config = str(tmp_path / 'shrunk.py')
    cfg.dump(config)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    ckpt = str(tmp_path / 'adapted.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    out = tmp_path / 'pseudo'
    tool.main([config, ckpt, '--out', str(out), '--device', 'cpu',
               '--num-workers', '0'])

    root = task_data.roots['MapillaryDataset']
    target = DATASETS.build(cfg.train_dataloader.dataset.target)
    assert len(target) > 0
    for i in range(len(target)):
        img_path = target.get_data_info(i)['img_path']
        label_path = tool.pseudo_label_path(
            img_path, osp.join(root, 'training/images'), '.jpg', str(out))
        label = cv2.imread(label_path, cv2.IMREAD_UNCHANGED)
        assert label is not None, label_path
        assert label.shape == cv2.imread(img_path).shape[:2], label_path
        assert set(np.unique(label).tolist()) <= set(range(7)) | {255}

    # The self-training stage reads them through its own pipeline
    # (CheckedLoadAnnotations, CheckSegMapSize, FitAndPad).
    st = Config.fromfile(SELF_TRAINING).train_dataloader.dataset
    st.data_root = root
    st.data_prefix.seg_map_path = str(out)
    dataset = DATASETS.build(st)
    assert len(dataset) == len(target)
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        gt = sample.gt_sem_seg.data[0]
        assert gt.shape == (760, 1280)
        height, width = cv2.imread(sample.img_path).shape[:2]
        s = min(1280 / width, 760 / height)
        fit_h, fit_w = round(height * s), round(width * s)
        assert (gt[fit_h:] == 255).all() and (gt[:, fit_w:] == 255).all()
