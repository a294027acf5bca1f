"""CAG-UDA term: one whole iteration equals a plain PyTorch step written
from METHODS.md sec. 4 / 6.1; the frozen prediction model is never trained,
in no optimiser, in eval mode and in the checkpoint; bad anchors are
named."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_uda  # noqa: F401

C = 4
LR = 0.01
MARGIN, THRESHOLD = 0.05, 0.5  # loose: a random network is unsure


def tiny_cag_cfg(stage=1, **term):
    bn = dict(type='BN', requires_grad=True)
    return ConfigDict(
        type='UDAEncoderDecoder',
        data_preprocessor=dict(
            type='UDADataPreProcessor',
            mean=[0., 0., 0.],
            std=[255., 255., 255.],
            bgr_to_rgb=True,
            seg_pad_val=255),
        backbone=dict(
            type='DeepLabResNet',
            depth=50,
            stage_blocks=(1, 1, 1, 1),
            base_channels=8,
            stem_channels=8,
            strides=(1, 2, 2, 1),
            dilations=(1, 1, 1, 2),
            multi_grid=(2, ),
            style='pytorch',
            maxpool_ceil_mode=False,
            norm_cfg=bn),
        decode_head=dict(
            type='DeepLabV3PlusHead',
            in_channels=(32, 256),
            channels=16,
            skip_channels=6,
            num_classes=C,
            norm_cfg=bn,
            align_corners=True,
            loss_decode=dict(
                type='CrossEntropyLoss', loss_weight=1.0,
                avg_non_ignore=True)),
        uda_terms=[
            dict(
                type='CategoryAnchorGuided',
                num_classes=C,
                feature_dim=16,
                stage=stage,
                margin=MARGIN,
                prob_threshold=THRESHOLD,
                **term)
        ],
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def build_model(**term):
    torch.manual_seed(0)
    model = MODELS.build(tiny_cag_cfg(**term))
    model.init_weights()
    # A confident classifier, so that some probability labels pass.
    torch.nn.init.normal_(model.decode_head.conv_seg.weight, std=1.0)
    cag = model.uda_terms[0]
    cag.frozen_model.load_from(model)
    g = torch.Generator().manual_seed(3)
    cag.set_anchors(torch.randn(C, 16, generator=g) * 0.3,
                    torch.full((C, ), 5))
    model.train()
    return model


def make_batch(seed=0, size=(64, 64)):
    g = torch.Generator().manual_seed(seed)
    imgs_s = [torch.randint(0, 256, (3, *size), generator=g,
                            dtype=torch.uint8) for _ in range(2)]
    imgs_t = [torch.randint(0, 256, (3, *size), generator=g,
                            dtype=torch.uint8) for _ in range(2)]
    labels = []
    samples_s, samples_t = [], []
    for _ in range(2):
        label = torch.randint(0, C, (1, *size), generator=g)
        label[:, :4] = 255
        labels.append(label[0])
        samples_s.append(SegDataSample(gt_sem_seg=PixelData(data=label)))
        samples_t.append(SegDataSample())
    for sample in samples_s + samples_t:
        sample.set_metainfo(dict(img_shape=size, ori_shape=size))
    data = dict(
        source=dict(inputs=imgs_s, data_samples=samples_s),
        target=dict(inputs=imgs_t, data_samples=samples_t))
    return data, torch.stack(imgs_s), torch.stack(imgs_t), torch.stack(labels)


# --- the released iteration, written from METHODS.md ---


class ReleasedMaskedMean(torch.autograd.Function):
    """Masked mean whose backward gives each masked pixel 2/(H*W)."""

    @staticmethod
    def forward(ctx, feature, mask):  # (D, H, W), (H, W)
        ctx.save_for_backward(mask)
        return feature[:, mask].mean(dim=1)

    @staticmethod
    def backward(ctx, grad):
        mask, = ctx.saved_tensors
        h, w = mask.shape
        g = grad.view(-1, 1, 1) * mask.float() * 2 / (h * w)
        return g, None


def ref_distance(feature, labels, prediction, anchors):
    losses = []
    for b in range(feature.shape[0]):
        for c in range(C):
            mask = (labels[b] == c) & (prediction[b] == c)
            if mask.sum() < 10:
                continue
            v = ReleasedMaskedMean.apply(feature[b], mask)
            loss = F.smooth_l1_loss(v, anchors[c])
            while loss > 5:
                loss = loss / 10
            losses.append(loss)
    return 10 * sum(losses) / len(losses) if losses else 0


def ref_pseudo_labels(frozen_backbone, frozen_head, x_t, anchors):
    with torch.no_grad():
        feat = frozen_head._forward_feature(frozen_backbone(x_t))
        logits = frozen_head.cls_seg(feat)
    d = ((feat[:, None] - anchors[None, :, :, None, None])**2).sum(2).sqrt()
    nearest = d.sort(dim=1).values
    active = nearest[:, 1] - nearest[:, 0] >= MARGIN
    y_a = torch.where(active, d.argmin(1),
                      torch.full_like(active, 255, dtype=torch.long))
    conf, arg = F.softmax(logits, 1).max(1)
    y_p = torch.where(conf > THRESHOLD, arg, torch.full_like(arg, 255))
    return y_a, y_p


def reference_step(model, frozen_backbone, frozen_head, anchors, imgs_s,
                   imgs_t, labels):
    backbone, head = model.backbone, model.decode_head
    opt = torch.optim.SGD(
        list(backbone.parameters()) + list(head.parameters()),
        lr=LR, momentum=0.9, weight_decay=2e-4)
    opt.zero_grad()
    x_s = imgs_s.flip(1).float() / 255
    x_t = imgs_t.flip(1).float() / 255
    f_s = head._forward_feature(backbone(x_s))
    z_s = head.cls_seg(f_s)
    ce_s = F.cross_entropy(
        F.interpolate(z_s, labels.shape[1:], mode='bilinear',
                      align_corners=True), labels, ignore_index=255)
    gt_small = F.interpolate(labels[:, None].float(), z_s.shape[2:],
                             mode='nearest')[:, 0].long()
    dis_s = ref_distance(f_s, gt_small, z_s.argmax(1), anchors)
    f_t = head._forward_feature(backbone(x_t))
    z_t = head.cls_seg(f_t)
    y_a, y_p = ref_pseudo_labels(frozen_backbone, frozen_head, x_t, anchors)
    assert 0 < (y_a != 255).sum() < y_a.numel()  # the test is meaningful
    assert 0 < (y_p != 255).sum() < y_p.numel()
    ce_t = 0.5 * (F.cross_entropy(z_t, y_a, ignore_index=255) +
                  F.cross_entropy(z_t, y_p, ignore_index=255))
    dis_t = ref_distance(f_t, y_a, z_t.argmax(1), anchors)
    assert torch.is_tensor(dis_s) and torch.is_tensor(dis_t)
    total = ce_s + ce_t + 0.7 * (dis_s + dis_t)
    total.backward()
    opt.step()
    return total.detach()


def optim_cfg():
    return dict(type='OptimWrapper', optimizer=dict(
        type='SGD', lr=LR, momentum=0.9, weight_decay=2e-4))


def test_one_cag_iteration_matches_the_released_step():
    model = build_model()
    reference = copy.deepcopy(model)
    frozen_b = copy.deepcopy(model.backbone).eval()
    frozen_h = copy.deepcopy(model.decode_head).eval()
    frozen_start = copy.deepcopy(model.uda_terms[0].frozen_model.state_dict())
    anchors = model.uda_terms[0].anchors.clone()
    data, imgs_s, imgs_t, labels = make_batch()

    wrapper = build_optim_wrapper(model, optim_cfg())
    torch.manual_seed(7)  # dropout masks: same order in both
    log_vars = model.train_step(data, wrapper)
    torch.manual_seed(7)
    ref_loss = reference_step(reference, frozen_b, frozen_h, anchors, imgs_s,
                              imgs_t, labels)

    assert {'src.decode.loss_ce', 'src.loss_dis', 'tgt.loss_ce_anchor',
            'tgt.loss_ce_prob', 'tgt.loss_dis'} <= set(log_vars)
    torch.testing.assert_close(log_vars['loss'], ref_loss, rtol=1e-5,
                               atol=1e-6)
    for name, p in model.named_parameters():
        torch.testing.assert_close(p, dict(reference.named_parameters())[name],
                                   rtol=1e-5, atol=1e-6,
                                   msg=lambda m: f'{name}: {m}')
    # the frozen model did not move and stays in eval mode
    for name, value in model.uda_terms[0].frozen_model.state_dict().items():
        assert torch.equal(value, frozen_start[name]), name
    assert not model.uda_terms[0].frozen_model.training


def test_frozen_model_is_outside_optimisers_and_inside_the_checkpoint():
    model = build_model()
    cag = model.uda_terms[0]
    frozen_ids = {id(p) for p in cag.frozen_model.parameters()}
    assert not frozen_ids & {id(p) for p in model.parameters()}
    wrapper = build_optim_wrapper(model, optim_cfg())
    in_optim = {id(p) for g in wrapper.optimizer.param_groups
                for p in g['params']}
    assert not frozen_ids & in_optim
    model.train()
    assert not cag.frozen_model.training
    state = model.state_dict()
    frozen_keys = [k for k in state
                   if k.startswith('uda_terms.0.frozen_model.')]
    assert len(frozen_keys) == len(cag.frozen_model.state_dict())
    assert {'uda_terms.0.anchors', 'uda_terms.0.anchor_counts',
            'uda_terms.0.stage'} <= set(state)
    # a fresh model restores frozen model and anchors from the checkpoint
    fresh = MODELS.build(tiny_cag_cfg())
    result = fresh.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for key, value in fresh.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_bad_anchors_are_named():
    model = build_model()
    cag = model.uda_terms[0]
    with pytest.raises(ValueError, match=r'anchors.pth.*\(3, 16\).*\(4, 16\)'):
        cag.set_anchors(torch.zeros(3, 16), torch.ones(3), 'anchors.pth')
    with pytest.raises(ValueError, match=r'\(4, 8\)'):
        cag.set_anchors(torch.zeros(4, 8), torch.ones(4), 'a.pth')
    with pytest.raises(ValueError, match=r'class\(es\) \[2\] never got'):
        cag.set_anchors(torch.zeros(4, 16), torch.tensor([1, 1, 0, 3]))
    with pytest.raises(ValueError, match='does not expose'):
        cfg = tiny_cag_cfg()
        cfg.decode_head = dict(type='DeepLabV2Head', in_channels=256,
                               in_index=3, num_classes=C)
        MODELS.build(cfg)
