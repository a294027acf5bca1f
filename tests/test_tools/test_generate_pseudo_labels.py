"""tools/generate_pseudo_labels.py on the demo data: full-resolution argmax
labels from test-scale inputs, the output layout, resuming, and that the
self-distillation config reads what it wrote."""
import importlib.util
import os
import os.path as osp

import cv2
import mmcv
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmseg.registry import DATASETS, MODELS

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CONFIG = osp.join(REPO, 'configs/demo/fada.py')
TEST_SCALE = (128, 64)  # (w, h): half the demo images' 256x128


def load_tool():
    path = osp.join(REPO, 'tools', 'generate_pseudo_labels.py')
    spec = importlib.util.spec_from_file_location('generate_pseudo_labels',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = load_tool()


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A (randomly initialised) demo FADA model, discriminator included."""
    cfg = Config.fromfile(CONFIG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    # Confident logits, so that float rounding rarely decides an argmax.
    for conv in model.decode_head.aspp_convs:
        conv.weight.data.mul_(100)
    path = tmp_path_factory.mktemp('ckpt') / 'fada.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return str(path), model.eval()


def argv(demo_data, ckpt, out):
    return [
        CONFIG, ckpt, '--out',
        str(out), '--device', 'cpu', '--num-workers', '0', '--cfg-options',
        f'train_dataloader.dataset.target.data_root={demo_data.cityscapes}',
        f'test_dataloader.dataset.pipeline.1.scale={TEST_SCALE}'
    ]


def expected_logits(model, img_path):
    """The model's logits at full size from a test-scale input, by hand."""
    img = cv2.imread(img_path)  # BGR, as mmcv loads it
    # what Resize(keep_ratio=False, backend='pillow', interpolation='bicubic')
    # of the FADA test pipeline does
    small = mmcv.imresize(img, TEST_SCALE, interpolation='bicubic',
                          backend='pillow')
    rgb = torch.from_numpy(small[..., ::-1].copy()).permute(2, 0, 1).float()
    mean = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)
    with torch.no_grad():
        logits = model.decode_head(model.backbone(((rgb - mean) / std)[None]))
    return F.interpolate(
        logits, size=img.shape[:2], mode='bilinear', align_corners=True)[0]


def test_labels_layout_resume_and_self_distill_reading(demo_data, checkpoint,
                                                       tmp_path, capsys,
                                                       monkeypatch):
    ckpt, model = checkpoint
    out = tmp_path / 'pseudo'
    tool.main(argv(demo_data, ckpt, out))
    assert '0 of 4 pseudo-labels already' in capsys.readouterr().out

    img_dir = osp.join(demo_data.cityscapes, 'leftImg8bit', 'train')
    images = sorted(
        osp.relpath(osp.join(root, f), img_dir)
        for root, _, files in os.walk(img_dir) for f in files)
    written = sorted(
        osp.relpath(osp.join(root, f), out) for root, _, files in os.walk(out)
        for f in files if f.endswith('.png'))
    # <city>/<stem>_leftImg8bit.png -> <city>/<stem>_pseudoTrainIds.png,
    # and no temporary files left behind
    assert written == [
        p.replace('_leftImg8bit.png', '_pseudoTrainIds.png') for p in images
    ]
    assert sorted(
        os.listdir(out)) == sorted({p.split(os.sep)[0]
                                    for p in written} | {'pseudo_labels.json'})
    for rel_img, rel_label in zip(images, written):
        label = cv2.imread(str(out / rel_label), cv2.IMREAD_UNCHANGED)
        assert label.dtype == np.uint8 and label.shape == (128, 256)
    first = cv2.imread(str(out / written[0]), cv2.IMREAD_UNCHANGED)
    logits = expected_logits(model, osp.join(img_dir, images[0]))
    top2 = logits.topk(2, dim=0).values
    near_tie = (top2[0] - top2[1] < 1e-5 * top2[0].abs().max()).numpy()
    assert near_tie.mean() < 0.01
    agree = first == logits.argmax(0).numpy()
    assert (agree | near_tie).all()

    # Resume: only the missing file is predicted; the others are untouched.
    os.remove(out / written[1])
    mtime = os.stat(out / written[0]).st_mtime_ns
    tool.main(argv(demo_data, ckpt, out))
    assert '3 of 4 pseudo-labels already' in capsys.readouterr().out
    assert (out / written[1]).is_file()
    assert os.stat(out / written[0]).st_mtime_ns == mtime
    # Nothing left to do: the model is not even built.
    monkeypatch.setattr(tool, 'build_model', pytest.fail)
    tool.main(argv(demo_data, ckpt, out))
    assert '4 of 4 pseudo-labels already' in capsys.readouterr().out

    # The self-distillation config trains on exactly these files.
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/fada/gta2cs_self_distill.py'))
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.data_root = demo_data.cityscapes
    dataset_cfg.data_prefix.seg_map_path = str(out)
    dataset = DATASETS.build(dataset_cfg)
    assert sorted(
        osp.relpath(dataset.get_data_info(i)['seg_map_path'], out)
        for i in range(len(dataset))) == written
    sample = dataset[0]['data_samples']
    assert sample.gt_sem_seg.data.shape == (1, 512, 1024)  # the crop
    source = cv2.imread(
        osp.join(out, osp.relpath(sample.seg_map_path, out)),
        cv2.IMREAD_UNCHANGED)
    assert set(sample.gt_sem_seg.data.unique().tolist()) <= set(
        np.unique(source).tolist())


def test_refuses_to_mix_checkpoints_and_bad_inputs(demo_data, checkpoint,
                                                   tmp_path):
    out = tmp_path / 'pseudo'
    tool.write_meta(str(out), dict(checkpoint='/other/model.pth'))
    with pytest.raises(SystemExit, match='/other/model.pth'):
        tool.main(argv(demo_data, checkpoint[0], out))
    with pytest.raises(ValueError, match='not an image'):
        tool.pseudo_label_path('/a/b.jpg', '/a', '.png', str(out))


def test_needs_a_uda_config(checkpoint, tmp_path):
    with pytest.raises(SystemExit, match='UDADataset'):
        tool.main([
            osp.join(REPO, 'configs/demo/source_only.py'), checkpoint[0],
            '--out',
            str(tmp_path)
        ])
    with pytest.raises(SystemExit, match='checkpoint not found'):
        tool.main([CONFIG, str(tmp_path / 'nope.pth'), '--out', str(tmp_path)])
