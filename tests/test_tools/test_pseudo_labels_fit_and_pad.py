"""Spatial-prior pseudo-labels of fitted-and-padded (Mapillary) inputs, as
the release writes them (issue 18, item 8): tools/generate_pseudo_labels.py's
``refined_label`` returns the whole input frame (1280x760) as refined, the
padding's prediction included (ignore with ``ignore_padding``); the tool
writes them on the generated Mapillary data and the self-training config
reads them as written (no resize), in its image list's order."""
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
    """Class of every pixel of a (H, W) image in 2 x 3 blocks."""
    height, width = hw
    rows = (np.arange(height) * 2) // height
    cols = (np.arange(width) * 3) // width
    return rows[:, None] * 3 + cols[None, :]


def inner(hw, margin):
    """Pixels of a (H, W) block image farther than ``margin`` from a block
    boundary and from the bottom/right border (next to the padding)."""
    height, width = hw
    r = np.arange(height) + 0.5
    c = np.arange(width) + 0.5
    rows = (np.abs(r - height / 2) > margin) & (r < height - margin)
    cols = ((np.abs(c - width / 3) > margin) &
            (np.abs(c - 2 * width / 3) > margin) & (c < width - margin))
    return rows[:, None] & cols[None, :]


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
# pads the bottom, narrower (Mapillary's usual 4:3) the right; the free side
# is truncated as the release.
@pytest.mark.parametrize('hw,fitted', [
    ((36, 48), (760, 1013)),  # 48 * 760 / 36 = 1013.3
    ((20, 48), (533, 1280)),  # 20 * 1280 / 48 = 533.3
    ((50, 30), (760, 456)),  # portrait: 30 * 760 / 50 = 456
])
@pytest.mark.parametrize('ignore_padding', [False, True])
def test_refined_label_is_the_input_frame(hw, fitted, ignore_padding,
                                          tmp_path):
    cfg = Config.fromfile(CONFIG)
    classes = block_classes(hw)
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
    refinement = dict(tool.refinement_settings(cfg, 7),
                      ignore_padding=ignore_padding)
    with torch.no_grad():
        label = tool.refined_label(model, batch, refinement)
    # the input size, as refined: no crop, no resize to the image's size
    assert label.shape == (760, 1280) and label.dtype == np.uint8
    fit_h, fit_w = fitted
    # every block where it is in the fitted image, away from the block
    # edges that bicubic upsampling (2 source pixels) and the stride-8 cells
    # blur, where a label may be a neighbour's or ignore
    keep = inner(fitted, margin=2 * fit_h / hw[0] + 16)
    assert keep.sum() > 0.2 * keep.size
    part = label[:fit_h, :fit_w]
    np.testing.assert_array_equal(part[keep], block_classes(fitted)[keep])
    # the padding (black, class 6) as the model predicts it, as the release
    # writes it, or ignore
    padding = np.ones(label.shape, bool)
    padding[:fit_h, :fit_w] = False
    assert padding.any()
    pad_label = 255 if ignore_padding else PAD_CLASS
    # three stride-8 cells away from the fitted part
    far = np.ones(label.shape, bool)
    far[:fit_h + 24, :fit_w + 24] = False
    assert (label[far] == pad_label).all()
    if ignore_padding:
        assert (label[padding] == 255).all()


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
    written = {}
    for i in range(len(target)):
        img_path = target.get_data_info(i)['img_path']
        label_path = tool.pseudo_label_path(
            img_path, osp.join(root, 'training/images'), '.jpg', str(out))
        label = cv2.imread(label_path, cv2.IMREAD_UNCHANGED)
        assert label is not None, label_path
        assert label.shape == (760, 1280), label_path  # the input frame
        assert set(np.unique(label).tolist()) <= set(range(7)) | {255}
        written[img_path] = label

    # The self-training stage reads them through its own pipeline (the
    # adaptation's FitAndPad, then CheckedLoadAnnotations, CheckSegMapSize)
    # as written, in its image list's order (here the generated list, the
    # reverse of the sorted names).
    st = Config.fromfile(SELF_TRAINING).train_dataloader.dataset
    assert st.image_list == 'depth-selftrain' and st.indices == 9000
    st.update(data_root=root, image_list=task_data.mapillary_list)
    st.data_prefix.seg_map_path = str(out)
    dataset = DATASETS.build(st)
    assert len(dataset) == len(target)
    order = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
    assert order == sorted(written)[::-1]
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(),
                                      written[sample.img_path])
        assert tuple(sample.img_shape) == (760, 1280)
