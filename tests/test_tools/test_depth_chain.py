"""The depth method's chain on the demo data with depth maps: GMM fit (the
fixture), adaptation with tools/dist_train.sh, --resume equal to an
uninterrupted run, spatial-prior pseudo-labels (tools/
generate_pseudo_labels.py, checked against a hand refinement),
self-training on them, and tools/test.py."""
import glob
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmseg.registry import DATASETS, MODELS
from PIL import Image
from scipy import ndimage

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CONFIG = 'configs/demo/depth.py'
SELF_TRAINING = 'configs/demo/depth_self_training.py'
NO_VAL = ['val_cfg=None', 'val_dataloader=None', 'val_evaluator=None']


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run(cmd):
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PORT=str(free_port()),
        PATH=osp.dirname(sys.executable) + os.pathsep + os.environ['PATH'])
    proc = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout + proc.stderr


def load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


@pytest.fixture(scope='module')
def adapted(depth_demo_data, tmp_path_factory):
    """2 + 2 iterations with --resume, and 4 uninterrupted."""
    root = tmp_path_factory.mktemp('depth_chain')
    options = ['--cfg-options'] + depth_demo_data.options() + NO_VAL + [
        'default_hooks.logger.interval=1'
    ]
    dist = ['bash', 'tools/dist_train.sh', CONFIG, '1']
    part, full = root / 'part', root / 'full'
    log = run(dist + ['--work-dir', str(part)] + options +
              ['train_cfg.max_iters=2'])
    for key in ('src.loss_bal_src', 'src.loss_depth', 'tgt.loss_bal_tgt',
                'tgt.loss_adv', 'tgt.loss_disc', 'discriminator.lr'):
        assert key in log, key
    log = run(dist + ['--work-dir', str(part), '--resume'] + options +
              ['train_cfg.max_iters=4'])
    assert 'resumed' in log.lower()
    run([sys.executable, 'tools/train.py', CONFIG, '--work-dir',
         str(full)] + options + ['train_cfg.max_iters=4'])
    return root, part / 'iter_4.pth', full / 'iter_4.pth'


def test_resume_equals_an_uninterrupted_run(adapted):
    _, resumed_path, full_path = adapted
    resumed, full = load(resumed_path), load(full_path)
    assert resumed['meta']['iter'] == full['meta']['iter'] == 4
    state = full['state_dict']
    assert 'uda_terms.0.gmm.means' in state
    for key, value in state.items():
        torch.testing.assert_close(
            resumed['state_dict'][key], value, msg=lambda m: f'{key}: {m}')
    for name in ('segmentor', 'discriminator'):
        ref = full['optimizer'][name]['state']
        got = resumed['optimizer'][name]['state']
        assert ref and set(got) == set(ref)
        for idx, slots in ref.items():
            for slot, value in slots.items():
                torch.testing.assert_close(got[idx][slot], value)


def hand_refined(model, img_path, thresholds, scale=(320, 192)):
    """The image resized with Pillow bicubic, softmax at the input size,
    confidence 0.9, 8-connected regions below the threshold ignored; kept
    at the input size (as the release writes it); by hand."""
    img = cv2.imread(img_path)
    small = np.asarray(Image.fromarray(img).resize(scale, Image.BICUBIC))
    x = torch.from_numpy(small).permute(2, 0, 1).float()
    x = x - torch.tensor([104.00698793, 116.66876762,
                          122.67891434]).view(3, 1, 1)
    with torch.no_grad():
        logits = model.decode_head(model.backbone(x[None]))
        probs = F.softmax(
            F.interpolate(logits, size=x.shape[1:], mode='bilinear',
                          align_corners=True), 1)[0].numpy()
    label = probs.argmax(0).astype(np.uint8)
    label[probs.max(0) < 0.9] = 255
    out = label.copy()
    for c in range(7):
        regions, _ = ndimage.label(label == c, structure=np.ones((3, 3)))
        sizes = np.bincount(regions.ravel())
        for r in range(1, len(sizes)):
            if sizes[r] < thresholds[c]:
                out[regions == r] = 255
    return out


def test_pseudo_labels_self_training_and_test(adapted, depth_demo_data):
    root, ckpt, _ = adapted
    out = osp.join(depth_demo_data.cityscapes, 'pseudo_labels', 'depth_demo')
    base = ['--cfg-options'] + depth_demo_data.options()
    log = run([sys.executable, 'tools/generate_pseudo_labels.py', CONFIG,
               str(ckpt), '--out', out, '--device', 'cpu',
               '--num-workers', '0'] + base)
    assert '"confidence": 0.9' in log
    labels = sorted(glob.glob(osp.join(out, '*', '*_pseudoTrainIds.png')))
    images = sorted(glob.glob(osp.join(depth_demo_data.cityscapes,
                                       'leftImg8bit', 'train', '*', '*.png')))
    assert len(labels) == len(images) > 0
    meta = json.load(open(osp.join(out, 'pseudo_labels.json')))
    assert meta['refinement']['thresholds'] == [63, 49, 6, 20, 15, 11, 11]

    cfg = Config.fromfile(osp.join(REPO, CONFIG))
    model = MODELS.build(cfg.model)
    model.load_state_dict(load(ckpt)['state_dict'])
    model.eval()
    written = {}
    for img_path, label_path in zip(images, labels):
        label = cv2.imread(label_path, cv2.IMREAD_UNCHANGED)
        expected = hand_refined(model, img_path, [63, 49, 6, 20, 15, 11, 11])
        assert label.shape == expected.shape == (192, 320)
        assert (label == expected).mean() > 0.999, label_path
        assert set(np.unique(label)) <= set(range(7)) | {255}
        written[img_path] = label

    # the self-training stage reads them as written (no resize)
    st = Config.fromfile(osp.join(REPO, SELF_TRAINING))
    st.train_dataloader.dataset.data_root = depth_demo_data.cityscapes
    dataset = DATASETS.build(st.train_dataloader.dataset)
    assert len(dataset) == len(images)
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(),
                                      written[sample.img_path])

    work = root / 'self_training'
    run([sys.executable, 'tools/train.py', SELF_TRAINING, '--work-dir',
         str(work), '--cfg-options',
         f'train_dataloader.dataset.data_root={depth_demo_data.cityscapes}',
         f'load_from={ckpt}', 'train_cfg.max_iters=1',
         'train_dataloader.num_workers=0',
         'train_dataloader.persistent_workers=False'] + NO_VAL)
    metrics = root / 'metrics.json'
    log = run([sys.executable, 'tools/test.py', SELF_TRAINING,
               str(work / 'iter_1.pth'), '--work-dir', str(work),
               '--save-metrics', str(metrics), '--cfg-options',
               f'test_dataloader.dataset.data_root='
               f'{depth_demo_data.cityscapes}',
               'test_dataloader.num_workers=0',
               'test_dataloader.persistent_workers=False'])
    assert 'flat' in log and 'vehicle' in log
    assert 0 <= json.loads(metrics.read_text())['mIoU'] <= 100
