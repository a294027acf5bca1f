"""FADA term: soft labels, gradient isolation of the generator and
discriminator terms, the binary baseline, one full FADA iteration against
the published two-pass loop (METHODS.md section 3) and the AMP path of the
two optimisers."""
import copy
import functools

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.optim import AmpOptimWrapper, build_optim_wrapper
from mmengine.optim.optimizer import amp_optimizer_wrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_uda  # noqa: F401
from mmseg_uda.engine.optimizers import MultiOptimWrapper
from mmseg_uda.models.uda import DomainOutputs
from mmseg_uda.models.uda.fine_grained_adversarial import (
    FineGrainedAdversarial, clipped_soft_labels)

NUM_CLASSES = 4
MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]
T = 1.8
LR, D_LR = 0.01, 1e-3


def tiny_fada_cfg(class_aware: bool = True) -> ConfigDict:
    """configs/fada/gta2cs.py's model with a tiny backbone (layer4: 256)."""
    disc = dict(
        type='FineGrainedDiscriminator',
        num_classes=NUM_CLASSES,
        in_channels=256,
        channels=(16, 8)) if class_aware else dict(
            type='FeatureDiscriminator', in_channels=256, channels=(16, 8))
    return ConfigDict(
        type='UDAEncoderDecoder',
        logit_temperature=T,
        data_preprocessor=dict(
            type='UDADataPreProcessor',
            mean=MEAN,
            std=STD,
            bgr_to_rgb=True,
            seg_pad_val=255),
        backbone=dict(
            type='DeepLabResNet',
            depth=50,
            stage_blocks=(1, 1, 1, 1),
            base_channels=8,
            stem_channels=8,
            style='pytorch',
            contract_dilation=True,
            maxpool_ceil_mode=False,
            norm_cfg=dict(type='FrozenBN', eps=0.),
            norm_eval=True),
        decode_head=dict(
            type='DeepLabV2Head',
            in_channels=256,
            in_index=3,
            num_classes=NUM_CLASSES,
            loss_decode=dict(
                type='CrossEntropyLoss', loss_weight=1.0,
                avg_non_ignore=True)),
        uda_terms=[
            dict(
                type='FineGrainedAdversarial',
                discriminator=disc,
                adv_weight=0.001,
                disc_weight=0.5,
                clip=0.9,
                class_aware=class_aware)
        ],
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def optim_cfg(amp: bool = False) -> dict:
    """configs/_base_/schedules/fada.py with test learning rates."""
    extra = dict(
        type='AmpOptimWrapper', dtype='bfloat16') if amp else dict(
            type='OptimWrapper')
    return dict(
        constructor='MultiOptimWrapperConstructor',
        segmentor=dict(
            optimizer=dict(type='SGD', lr=LR, momentum=0.9, weight_decay=5e-4),
            paramwise_cfg=dict(
                custom_keys=dict(decode_head=dict(lr_mult=10.0))),
            **extra),
        discriminator=dict(
            optimizer=dict(type='Adam', lr=D_LR, betas=(0.9, 0.99)),
            modules=['uda_terms.0.discriminator'],
            **extra))


def build_model(class_aware: bool = True):
    torch.manual_seed(0)
    model = MODELS.build(tiny_fada_cfg(class_aware))
    model.init_weights()
    model.train()
    return model


def make_batch(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    img_s = torch.randint(0, 256, (3, 40, 56), generator=g, dtype=torch.uint8)
    img_t = torch.randint(0, 256, (3, 32, 48), generator=g, dtype=torch.uint8)
    label = torch.randint(0, NUM_CLASSES, (1, 40, 56), generator=g)
    label[:, :5] = 255
    sample_s = SegDataSample(gt_sem_seg=PixelData(data=label))
    sample_t = SegDataSample()
    for sample, img in ((sample_s, img_s), (sample_t, img_t)):
        sample.set_metainfo(
            dict(img_shape=img.shape[1:], ori_shape=img.shape[1:]))
    data = dict(
        source=dict(inputs=[img_s], data_samples=[sample_s]),
        target=dict(inputs=[img_t], data_samples=[sample_t]))
    return data, img_s, img_t, label[0]


# --- the published iteration, written from METHODS.md section 3 ---


def normalise(img):
    rgb = img.flip(0).float()  # mmcv loads BGR; FADA normalises RGB
    return ((rgb - torch.tensor(MEAN).view(3, 1, 1)) /
            torch.tensor(STD).view(3, 1, 1))[None]


def up(x, size):
    return F.interpolate(x, size=size, mode='bilinear', align_corners=True)


def sce(z, a):
    return (-a * F.log_softmax(z, dim=1)).sum(1).mean()


def soft_label(logits):
    a = F.softmax(logits, dim=1).detach()
    a[a > 0.9] = 0.9
    return a


def reference_fada_step(model, img_s, img_t, label):
    """Two backward passes and two steps in the published order."""
    backbone, head = model.backbone, model.decode_head
    disc = model.uda_terms[0].discriminator
    seg_opt = torch.optim.SGD([
        dict(params=list(backbone.parameters())),
        dict(params=list(head.parameters()), lr=10 * LR)
    ],
                              lr=LR,
                              momentum=0.9,
                              weight_decay=5e-4)
    d_opt = torch.optim.Adam(disc.parameters(), lr=D_LR, betas=(0.9, 0.99))
    seg_opt.zero_grad()
    d_opt.zero_grad()
    size_s, size_t = img_s.shape[1:], img_t.shape[1:]
    # 1. temperature-scaled source CE; backward
    f_s = backbone(normalise(img_s))[3]
    s = up(head([None, None, None, f_s]), size_s) / T
    loss_seg = F.cross_entropy(s, label[None], ignore_index=255)
    loss_seg.backward()
    # 2. clipped, detached soft labels
    a_s = soft_label(s)
    f_t = backbone(normalise(img_t))[3]
    t = up(head([None, None, None, f_t]), size_t) / T
    a_t = soft_label(t)
    # 3. adversarial term (D's gradients from it are discarded below)
    loss_adv = 0.001 * sce(
        disc(f_t, size_t), torch.cat([a_t, torch.zeros_like(a_t)], 1))
    loss_adv.backward()
    seg_opt.step()
    # 4. discriminator on the (pre-step) detached features
    d_opt.zero_grad()
    loss_d = 0.5 * sce(
        disc(f_s.detach(), size_s), torch.cat([a_s, torch.zeros_like(a_s)], 1))
    loss_d = loss_d + 0.5 * sce(
        disc(f_t.detach(), size_t), torch.cat([torch.zeros_like(a_t), a_t], 1))
    loss_d.backward()
    d_opt.step()
    return (loss_seg + loss_adv + loss_d).detach()


def assert_same_state(model, reference):
    # Adam scales each element's first step to about +-lr, so an element
    # whose gradient is as small as Adam's eps (1e-8) turns float32 rounding
    # of that gradient into a step difference of up to a few 1e-3 * lr (2.3e-3
    # seen on this CPU's kernels); atol allows 1 % of one discriminator step,
    # far below any real deviation (a wrong or missing term moves ~lr).
    for (name, p), ref_p in zip(model.state_dict().items(),
                                reference.state_dict().values()):
        torch.testing.assert_close(
            p,
            ref_p,
            rtol=1e-5,
            atol=1e-2 * D_LR,
            msg=lambda m: f'{name}: {m}')


def test_one_fada_iteration_matches_the_published_loop():
    model = build_model()
    reference = copy.deepcopy(model)
    start = copy.deepcopy(model.state_dict())
    data, img_s, img_t, label = make_batch()

    wrapper = build_optim_wrapper(model, optim_cfg())
    assert isinstance(wrapper, MultiOptimWrapper)
    log_vars = model.train_step(data, wrapper)
    ref_loss = reference_fada_step(reference, img_s, img_t, label)

    assert {'src.decode.loss_ce', 'tgt.loss_adv',
            'tgt.loss_disc'} <= set(log_vars)
    torch.testing.assert_close(
        log_vars['loss'], ref_loss, rtol=1e-5, atol=1e-6)
    assert_same_state(model, reference)
    moved = {
        n.split('.')[0]
        for n, p in model.state_dict().items() if not torch.equal(p, start[n])
    }
    assert moved == {'backbone', 'decode_head', 'uda_terms'}


def term_outputs(model, data):
    processed = model.data_preprocessor(data, training=True)
    return model(**processed, mode='loss')


def grads(params):
    return [p.grad for p in params]


def test_adversarial_term_never_reaches_d_and_d_term_never_reaches_seg():
    model = build_model()
    disc = list(model.uda_terms[0].discriminator.parameters())
    seg = list(model.backbone.parameters()) + list(
        model.decode_head.parameters())
    data, *_ = make_batch()

    term_outputs(model, data)['tgt.loss_adv'].backward()
    assert all(g is None for g in grads(disc))
    assert any(g is not None and g.abs().sum() > 0 for g in grads(seg))

    model.zero_grad(set_to_none=True)
    term_outputs(model, data)['tgt.loss_disc'].backward()
    assert all(g is None for g in grads(seg))
    assert all(g is not None and g.abs().sum() > 0 for g in grads(disc))


def test_soft_labels_are_clipped_not_renormalised_and_detached():
    # softmax of (ln 19, 0) = (0.95, 0.05) -> clipped to (0.9, 0.05)
    logits = torch.tensor([19.]).log().view(1, 1, 1, 1).repeat(1, 2, 1, 1)
    logits[:, 1] = 0.
    logits.requires_grad_(True)
    labels = clipped_soft_labels(logits, 0.9)
    torch.testing.assert_close(labels.flatten(), torch.tensor([0.9, 0.05]))
    assert not labels.requires_grad
    torch.testing.assert_close(
        clipped_soft_labels(logits, None).flatten(), torch.tensor([0.95,
                                                                   0.05]))


def domain_outputs(feat, logits, size):
    return DomainOutputs(
        torch.zeros(1, 3, *size), (feat, ),
        dict(main=logits),
        align_corners=True)


def test_binary_feature_level_baseline_equals_bce():
    torch.manual_seed(0)
    term = FineGrainedAdversarial(
        dict(type='FeatureDiscriminator', in_channels=6, channels=(4, 4)),
        class_aware=False,
        feature_index=0)
    f_s, f_t = torch.randn(1, 6, 3, 4), torch.randn(1, 6, 2, 3)
    source = domain_outputs(f_s, torch.randn(1, 5, 3, 4), (12, 16))
    target = domain_outputs(f_t, torch.randn(1, 5, 2, 3), (8, 12))
    losses = term.loss(source, target)
    d_s = term.discriminator(f_s, (12, 16))
    d_t = term.discriminator(f_t, (8, 12))
    bce = F.binary_cross_entropy_with_logits
    # source d = 0, target d = 1; the generator labels target as source
    torch.testing.assert_close(losses['loss_adv'],
                               0.001 * bce(d_t, torch.zeros_like(d_t)))
    torch.testing.assert_close(
        losses['loss_disc'], 0.5 *
        (bce(d_s, torch.zeros_like(d_s)) + bce(d_t, torch.ones_like(d_t))))


def test_baseline_model_iteration_moves_everything():
    model = build_model(class_aware=False)
    start = copy.deepcopy(model.state_dict())
    wrapper = build_optim_wrapper(model, optim_cfg())
    model.train_step(make_batch()[0], wrapper)
    assert all(not torch.equal(p, start[n])
               for n, p in model.named_parameters())


def test_configuration_errors_are_named():
    disc = dict(
        type='FineGrainedDiscriminator',
        num_classes=3,
        in_channels=6,
        channels=(4, 4))
    with pytest.raises(ValueError, match='class_aware=False.*6 output'):
        FineGrainedAdversarial(disc, class_aware=False)
    with pytest.raises(ValueError, match='clip'):
        FineGrainedAdversarial(disc, clip=1.5)
    term = FineGrainedAdversarial(disc, feature_index=0)
    outputs = domain_outputs(
        torch.randn(1, 6, 2, 2), torch.randn(1, 5, 2, 2), (8, 8))
    with pytest.raises(ValueError, match='num_classes'):
        term.loss(outputs, outputs)  # 5 segmentation classes, D has 3
    with pytest.raises(IndexError, match='feature_index=3'):
        FineGrainedAdversarial(disc).loss(outputs, outputs)


@pytest.fixture
def amp_on_cpu(monkeypatch):
    """Let mmengine's AmpOptimWrapper run on the CPU: its GPU assertion is
    lifted and its GradScaler is torch's CPU scaler; autocast then runs on
    the CPU in bfloat16 (the only CPU autocast dtype)."""
    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available',
                        lambda: True)
    monkeypatch.setattr(amp_optimizer_wrapper, 'GradScaler',
                        functools.partial(torch.amp.GradScaler, 'cpu'))


def test_amp_steps_both_optimisers_with_one_shared_scaler(amp_on_cpu):
    model = build_model()
    plain = copy.deepcopy(model)
    start = copy.deepcopy(model.state_dict())
    data, *_ = make_batch()
    wrapper = build_optim_wrapper(model, optim_cfg(amp=True))
    inner = list(wrapper.optim_wrappers.values())
    assert all(isinstance(w, AmpOptimWrapper) for w in inner)
    assert inner[0].loss_scaler is inner[1].loss_scaler
    scale = inner[0].loss_scaler.get_scale()
    assert scale > 1  # the loss really is scaled

    model.train_step(data, wrapper)
    plain.train_step(data, build_optim_wrapper(plain, optim_cfg()))

    # Every parameter moved about as in float32: gradients were unscaled
    # exactly once (a missing or double unscale would be off by `scale`).
    for name, p in model.named_parameters():
        delta = p.detach() - start[name]
        ref = dict(plain.named_parameters())[name].detach() - start[name]
        assert delta.abs().sum() > 0, name
        ratio = (delta.norm() / ref.norm()).item()
        assert 0.7 < ratio < 1.4, (name, ratio)
    state = wrapper.state_dict()
    assert set(state) == {'segmentor', 'discriminator'}
    assert 'loss_scaler' in state['discriminator']
