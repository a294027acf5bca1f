"""Depth-distribution term: one whole iteration against a plain PyTorch step
in the released order (G source backward, G target backward with D frozen,
D backward, both steps; METHODS.md sec. 5, 6.3), gradient isolation, the
target's depth mask and named errors."""
import copy
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from PIL import Image

import mmseg_uda  # noqa: F401
from mmseg_uda.models.uda.domain_outputs import DomainOutputs
from mmseg_uda.models.utils.class_gmm_density import GMM_FORMAT

C, K = 4, 2
MEAN = [104.00698793, 116.66876762, 122.67891434]
WEIGHTS = [0.5, 1.0, 2.0, 4.0]
LR, D_LR = 0.01, 1e-3
H, W = 64, 80


def head_cfg():
    return dict(
        type='ChannelMeanRegressionHead', in_channels=256,
        channels=(16, 16, 8))


def tiny_cfg(gmm_file):
    """configs/depth's model with a tiny backbone (layer4: 256)."""
    return ConfigDict(
        type='UDAEncoderDecoder',
        data_preprocessor=dict(
            type='UDADataPreProcessor', mean=MEAN, std=[1., 1., 1.],
            bgr_to_rgb=False, seg_pad_val=255),
        backbone=dict(
            type='DeepLabResNet', depth=50, stage_blocks=(1, 1, 1, 1),
            base_channels=8, stem_channels=8, strides=(1, 2, 1, 1),
            dilations=(1, 1, 2, 4), style='caffe', maxpool_ceil_mode=True,
            norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False,
            frozen_bn_affine='all', contract_dilation=False),
        decode_head=dict(
            type='DeepLabV2Head', in_channels=256, in_index=3,
            num_classes=C, align_corners=True,
            loss_decode=dict(
                type='ClassWeightedCrossEntropyLoss', class_weight=WEIGHTS,
                num_classes=C)),
        uda_terms=[
            dict(
                type='DepthDistribution', num_classes=C, gmm_file=gmm_file,
                num_components=K, in_channels=256, depth_head=head_cfg(),
                density_head=head_cfg(),
                discriminator=dict(
                    type='FullyConvDiscriminator', in_channels=C,
                    channels=(8, 8, 8, 8)))
        ],
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def optim_cfg():
    """configs/_base_/schedules/depth.py with test learning rates."""
    return dict(
        constructor='MultiOptimWrapperConstructor',
        segmentor=dict(
            type='OptimWrapper',
            optimizer=dict(type='SGD', lr=LR, momentum=0.9,
                           weight_decay=5e-4)),
        discriminator=dict(
            type='OptimWrapper',
            optimizer=dict(type='Adam', lr=D_LR, betas=(0.9, 0.99)),
            modules=['uda_terms.0.discriminator']))


def gmm_classes(grid, seed=0):
    g = torch.Generator().manual_seed(seed)
    width, height = grid
    out = []
    for c in range(C):
        weights = torch.rand(K, generator=g) + 0.1
        means = torch.stack([torch.rand(K, generator=g) * width,
                             torch.rand(K, generator=g) * height,
                             torch.rand(K, generator=g) * 40], 1)
        variances = torch.stack([torch.rand(K, generator=g) * 8 + 1,
                                 torch.rand(K, generator=g) * 8 + 1,
                                 torch.rand(K, generator=g) * 2e3 + 100], 1)
        out.append(dict(name=str(c),
                        weights=(weights / weights.sum()).tolist(),
                        means=means.tolist(), variances=variances.tolist()))
    return out


def build(tmp_path, seed=0):
    """The model, its grid, and its GMM file written after the build (the
    term reads it at the first step)."""
    path = tmp_path / 'gmm.json'
    torch.manual_seed(seed)
    model = MODELS.build(tiny_cfg(str(path)))
    model.init_weights()
    model.train()
    with torch.no_grad():
        grid = model.backbone(torch.zeros(1, 3, H, W))[3].shape[2:]
    grid = (grid[1], grid[0])  # (W, H)
    classes = gmm_classes(grid)
    path.write_text(json.dumps(dict(
        format=GMM_FORMAT, num_classes=C, grid_size=list(grid),
        num_components=K, classes=classes)))
    return model, classes


def make_batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    img_s = torch.randint(0, 256, (3, H, W), generator=g, dtype=torch.uint8)
    img_t = torch.randint(0, 256, (3, H, W), generator=g, dtype=torch.uint8)
    label = torch.randint(0, C, (1, H, W), generator=g)
    label[:, :6] = 255
    raw = torch.randint(1000, 60000, (1, H, W), generator=g)
    depth = 65536. / (raw.float() + 1)
    sample_s = SegDataSample(
        gt_sem_seg=PixelData(data=label), gt_depth_map=PixelData(data=depth))
    sample_t = SegDataSample()
    for sample in (sample_s, sample_t):
        sample.set_metainfo(dict(img_shape=(H, W), ori_shape=(H, W)))
    data = dict(
        source=dict(inputs=[img_s], data_samples=[sample_s]),
        target=dict(inputs=[img_t], data_samples=[sample_t]))
    return data, img_s, img_t, label[0], depth


# --- the released iteration, written from METHODS.md sec. 5 and 6.3 ---


def normalise(img):
    return (img.float() - torch.tensor(MEAN).view(3, 1, 1))[None]


def up(x, size):
    return F.interpolate(x, size=size, mode='bilinear', align_corners=True)


def regress(head, f):
    """1x1, ReLU, 3x3, ReLU, 1x1, channel mean; the head's own weights."""
    convs = [m for m in head.modules() if isinstance(m, torch.nn.Conv2d)]
    x = F.relu(F.conv2d(f, convs[0].weight, convs[0].bias))
    x = F.relu(F.conv2d(x, convs[1].weight, convs[1].bias, padding=1))
    return F.conv2d(x, convs[2].weight, convs[2].bias).mean(1, keepdim=True)


def berhu(pred, gt):
    e = (pred - gt).abs()
    c = 0.2 * e.max().detach()
    return torch.where(e <= c, e, (e**2 + c**2) / (2 * c)).mean()


def density_target(classes, labels, depth):
    """255 (1 - exp(-1e6 p)) cell by cell; (1, 1, h, w)."""
    h, w = labels.shape
    out = torch.zeros(1, 1, h, w)
    for r in range(h):
        for col in range(w):
            gmm = classes[int(labels[r, col])]
            p = 0.
            for k in range(K):
                term = gmm['weights'][k]
                for v, mu, var in zip((col, r, float(depth[r, col])),
                                      gmm['means'][k], gmm['variances'][k]):
                    term *= math.exp(-(v - mu)**2 /
                                     (2 * var)) / math.sqrt(2 * math.pi * var)
                p += term
            out[0, 0, r, col] = 255 * (1 - math.exp(-1e6 * p))
    return out


def pillow_nearest(frame, grid_hw):
    """Pillow's nearest resize of an (H, W) uint8 or float32 array."""
    return np.asarray(Image.fromarray(frame).resize(
        (grid_hw[1], grid_hw[0]), Image.NEAREST))


def source_depth_on_grid(label, depth, pred):
    """The depth the source target evaluates (METHODS.md sec. 6.4): GT depth
    and label at the cells' centres (Pillow nearest), depth 0 where the
    label is not the predicted class."""
    grid = pred.shape
    on_grid = pillow_nearest(np.asarray(depth, np.float32), grid)
    labels = pillow_nearest(np.asarray(label, np.uint8), grid)
    return np.where(labels == pred, on_grid, 0).astype(np.float32)


def entropy(p):
    return -p * torch.log2(p + 1e-30) / math.log2(C)


def bce(z, label):
    return F.binary_cross_entropy_with_logits(z, torch.full_like(z, label))


def weighted_ce(logits, label):
    return F.cross_entropy(
        logits, label[None], weight=torch.tensor(WEIGHTS), ignore_index=255)


def reference_step(model, classes, img_s, img_t, label, depth):
    backbone, head = model.backbone, model.decode_head
    term = model.uda_terms[0]
    disc = term.discriminator
    seg_params = [
        p for n, p in model.named_parameters() if 'discriminator' not in n
    ]
    seg_opt = torch.optim.SGD(seg_params, lr=LR, momentum=0.9,
                              weight_decay=5e-4)
    d_opt = torch.optim.Adam(disc.parameters(), lr=D_LR, betas=(0.9, 0.99))
    size = (H, W)
    # G source
    f_s = backbone(normalise(img_s))[3]
    s8 = head([None, None, None, f_s])
    h, w = s8.shape[2:]
    s = up(s8, size)
    den_s, dep_s = regress(term.density_head, f_s), regress(
        term.depth_head, f_s)
    pred_s = s8.detach().argmax(1)[0]
    d_s = density_target(
        classes, pred_s,
        source_depth_on_grid(label.numpy(), depth[0].numpy(),
                             pred_s.numpy()))
    loss_src = weighted_ce(s, label) + 0.01 * berhu(den_s, d_s) + \
        0.005 * berhu(up(dep_s, size), depth[None])
    loss_src.backward()
    # G target, D frozen
    f_t = backbone(normalise(img_t))[3]
    t8 = head([None, None, None, f_t])
    den_t, dep_t = regress(term.density_head, f_t), regress(
        term.depth_head, f_t)
    d_t = density_target(classes, t8.detach().argmax(1)[0],
                         dep_t.detach()[0, 0])
    d_t[dep_t.detach() <= 0] = 0
    m_t = entropy(F.softmax(up(t8, size), 1)) * up(den_t, size)
    for p in disc.parameters():
        p.requires_grad_(False)
    loss_tgt = 0.05 * berhu(den_t, d_t) + 0.05 * bce(disc(m_t), 0.)
    loss_tgt.backward()
    for p in disc.parameters():
        p.requires_grad_(True)
    # D on detached maps, each domain's BCE unhalved (METHODS.md 6.4)
    m_s = entropy(F.softmax(s.detach(), 1)) * up(den_s.detach(), size)
    loss_d = bce(disc(m_s), 0.) + bce(disc(m_t.detach()), 1.)
    loss_d.backward()
    seg_opt.step()
    d_opt.step()
    return (loss_src + loss_tgt + loss_d).detach()


def test_one_iteration_matches_the_released_step(tmp_path):
    model, classes = build(tmp_path)
    reference = copy.deepcopy(model)
    start = copy.deepcopy(model.state_dict())
    data, img_s, img_t, label, depth = make_batch()

    wrapper = build_optim_wrapper(model, optim_cfg())
    log_vars = model.train_step(data, wrapper)
    reference.uda_terms[0].gmm.load_file()  # the step loaded it lazily
    ref_loss = reference_step(reference, classes, img_s, img_t, label, depth)

    assert {
        'src.decode.loss_ce', 'src.loss_bal_src', 'src.loss_depth',
        'tgt.loss_bal_tgt', 'tgt.loss_adv', 'tgt.loss_disc'
    } <= set(log_vars)
    torch.testing.assert_close(
        log_vars['loss'], ref_loss, rtol=1e-5, atol=1e-5)
    for (name, p), ref_p in zip(model.state_dict().items(),
                                reference.state_dict().values()):
        torch.testing.assert_close(
            p, ref_p, rtol=1e-5, atol=2e-3 * D_LR,
            msg=lambda m: f'{name}: {m}')
    moved = {n for n, p in model.state_dict().items()
             if not torch.equal(p, start[n])}
    for part in ('decode_head', 'uda_terms.0.depth_head',
                 'uda_terms.0.density_head', 'uda_terms.0.discriminator'):
        assert any(n.startswith(part) for n in moved), part
    # The GMM is in the checkpoint.
    assert 'uda_terms.0.gmm.means' in model.state_dict()


def direct_target(classes, pred, depth):
    """255 (1 - exp(-1e6 p)) of every cell, the mixture in float64 NumPy."""
    pi = np.array([c['weights'] for c in classes])
    mu = np.array([c['means'] for c in classes])
    var = np.array([c['variances'] for c in classes])
    rows, cols = np.indices(pred.shape)
    v = np.stack([cols, rows, depth.astype(np.float64)], -1)[..., None, :]
    m, s = mu[pred], var[pred]
    normal = np.exp(-(v - m)**2 / (2 * s)) / np.sqrt(2 * math.pi * s)
    return 255 * (1 - np.exp(-1e6 * (pi[pred] * normal.prod(-1)).sum(-1)))


# the 161x96 grid of the 1280x760 input (ceil-mode stride 8) and a small
# odd frame
@pytest.mark.parametrize('frame_hw, grid_hw', [((760, 1280), (96, 161)),
                                               ((23, 37), (3, 5))])
def test_source_density_target_is_the_masked_depth_at_cell_centres(
        tmp_path, frame_hw, grid_hw):
    (height, width), (h, w) = frame_hw, grid_hw
    # mixtures with p ~ 1e-6 over the grid (targets in the mapping's range)
    sigma_d = 1 / ((2 * math.pi)**1.5 * (w / 2) * (h / 2) * 2e-6)
    g = torch.Generator().manual_seed(0)
    classes = [
        dict(weights=[0.6, 0.4],
             means=torch.stack([torch.rand(K, generator=g) * w,
                                torch.rand(K, generator=g) * h,
                                torch.rand(K, generator=g) * sigma_d],
                               1).tolist(),
             variances=[[(w / 2)**2, (h / 2)**2, sigma_d**2]] * K)
        for _ in range(C)
    ]
    path = tmp_path / 'gmm.json'
    path.write_text(json.dumps(dict(
        format=GMM_FORMAT, num_classes=C, grid_size=[w, h],
        num_components=K, classes=classes)))
    small_head = dict(type='ChannelMeanRegressionHead', in_channels=8,
                      channels=(4, 4, 2))
    term = MODELS.build(dict(
        type='DepthDistribution', num_classes=C, gmm_file=str(path),
        num_components=K, in_channels=8, depth_head=small_head,
        density_head=small_head))
    # a frame of distinct depths and a label that changes pixel by pixel,
    # ignore (255) included
    rows, cols = np.indices(frame_hw)
    depth = (1 + 3 * sigma_d * (rows * width + cols) /
             (height * width)).astype(np.float32)
    assert np.unique(depth).size == depth.size
    label = ((7 * rows + 3 * cols) % (C + 1)).astype(np.uint8)
    label[label == C] = 255
    grid_rows, grid_cols = np.indices(grid_hw)
    pred = (grid_rows + 2 * grid_cols) % C
    sample = SegDataSample(
        gt_sem_seg=PixelData(data=torch.from_numpy(label).long()[None]),
        gt_depth_map=PixelData(data=torch.from_numpy(depth)[None]))
    logits = 10 * F.one_hot(torch.from_numpy(pred), C).permute(2, 0, 1)
    feat = torch.randn(1, 8, h, w, generator=g)
    source = DomainOutputs(
        torch.zeros(1, 3, height, width), (None, None, None, feat),
        dict(main=logits[None].float()), True, [sample])

    seen = {}
    gmm_forward, head_forward = term.gmm.forward, term.density_head.forward

    def keep_gmm(classes, depth):
        seen.update(classes=classes, depth=depth)
        seen['target'] = gmm_forward(classes, depth)
        return seen['target']

    def keep_head(x):
        seen['den'] = head_forward(x)
        return seen['den']

    term.gmm.forward, term.density_head.forward = keep_gmm, keep_head
    losses = term.source_loss(source)

    expected_depth = source_depth_on_grid(label, depth, pred)
    np.testing.assert_array_equal(seen['classes'][0].numpy(), pred)
    np.testing.assert_array_equal(seen['depth'][0].numpy(), expected_depth)
    # the hand-made frame has all three kinds of cells at the centres
    labels = pillow_nearest(label, grid_hw)
    assert (labels == pred).any() and (labels == 255).any()
    assert ((labels != pred) & (labels != 255)).any()
    # not the cells' top-left pixel (torch's and cv2's nearest)
    top_left = F.interpolate(torch.from_numpy(depth)[None, None],
                             size=grid_hw, mode='nearest')[0, 0].numpy()
    assert not np.array_equal(
        np.where(labels == pred, top_left, 0), expected_depth)
    target = direct_target(classes, pred, expected_depth)
    torch.testing.assert_close(seen['target'][0, 0].double(),
                               torch.from_numpy(target), rtol=1e-5, atol=1e-3)
    # d = 0 cells are evaluated there, not masked out of the target
    zero = expected_depth == 0
    assert zero.any() and (target[zero] > 1).all()
    assert (target > 1).all() and (target < 254).any()
    target = torch.from_numpy(target)[None, None].float()
    torch.testing.assert_close(losses['loss_bal_src'],
                               0.01 * berhu(seen['den'], target))


def loss_of(model, data):
    processed = model.data_preprocessor(data, training=True)
    return model(**processed, mode='loss')


def test_gradient_isolation(tmp_path):
    model, _ = build(tmp_path)
    term = model.uda_terms[0]
    disc = list(term.discriminator.parameters())
    data = make_batch()[0]
    loss_of(model, data)['tgt.loss_adv'].backward()
    assert all(p.grad is None for p in disc)
    # the adversarial gradient reaches the density head and the classifier
    for part in (term.density_head, model.decode_head):
        assert any(p.grad is not None and p.grad.abs().sum() > 0
                   for p in part.parameters())
    assert all(p.grad is None for p in term.depth_head.parameters())
    model.zero_grad(set_to_none=True)
    loss_of(model, data)['tgt.loss_disc'].backward()
    assert all(p.grad is not None for p in disc)
    assert all(p.grad is None for n, p in model.named_parameters()
               if 'discriminator' not in n)


def test_target_density_is_zero_where_predicted_depth_is_not_positive(
        tmp_path):
    model, _ = build(tmp_path)
    term = model.uda_terms[0]
    last = [m for m in term.depth_head.modules()
            if isinstance(m, torch.nn.Conv2d)][-1]
    last.bias.data.fill_(-1e4)  # every predicted depth < 0
    captured = {}
    density_forward = term.density_head.forward

    def keep(x):
        out = density_forward(x)
        captured['den'] = out
        return out

    term.density_head.forward = keep
    losses = loss_of(model, make_batch()[0])
    den_t = captured['den']  # the target's, computed last
    torch.testing.assert_close(losses['tgt.loss_bal_tgt'],
                               0.05 * berhu(den_t, torch.zeros_like(den_t)))


def test_missing_depth_and_class_mismatch_are_named(tmp_path):
    model, _ = build(tmp_path)
    data = make_batch()[0]
    del data['source']['data_samples'][0].gt_depth_map
    with pytest.raises(KeyError, match='gt_depth_map.*LoadSynthiaDepth'):
        loss_of(model, data)
    cfg = tiny_cfg(None).uda_terms[0]
    cfg.discriminator.in_channels = 3
    with pytest.raises(ValueError, match='3 channels.*4 classes'):
        MODELS.build(cfg)
