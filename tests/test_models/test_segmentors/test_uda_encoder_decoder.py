"""UDAEncoderDecoder: loss dict of two-domain batches and a MaxSquare
training iteration checked against a plain PyTorch step written from
METHODS.md section 2."""
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

NUM_CLASSES = 5
MEAN = [104.00698793, 116.66876762, 122.67891434]
LR = 0.01


def tiny_model_cfg(multi_level: bool, target_loss: dict,
                   guidance: dict = None) -> dict:
    head = dict(
        type='DeepLabV2Head',
        in_channels=256,
        in_index=3,
        num_classes=NUM_CLASSES,
        num_active_branches=2,
        loss_decode=dict(
            type='CrossEntropyLoss', loss_weight=1.0, avg_non_ignore=True))
    cfg = dict(
        type='UDAEncoderDecoder',
        data_preprocessor=dict(
            type='UDADataPreProcessor',
            mean=MEAN,
            std=[1.0, 1.0, 1.0],
            bgr_to_rgb=False,
            seg_pad_val=255),
        backbone=dict(
            type='DeepLabResNet',
            depth=50,
            stage_blocks=(1, 1, 1, 1),
            base_channels=8,
            stem_channels=8,
            frozen_bn_affine='stem'),
        decode_head=head,
        uda_terms=[
            dict(
                type='TargetOutputLoss', loss=target_loss, guidance=guidance)
        ],
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))
    if multi_level:
        low = copy.deepcopy(head)
        low.update(in_channels=128, in_index=2)
        low['loss_decode']['loss_weight'] = 0.1
        cfg['auxiliary_head'] = low
    return ConfigDict(cfg)


def make_batch(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    img_s = torch.randint(0, 256, (3, 40, 56), generator=g, dtype=torch.uint8)
    img_t = torch.randint(0, 256, (3, 32, 48), generator=g, dtype=torch.uint8)
    label = torch.randint(0, NUM_CLASSES, (1, 40, 56), generator=g)
    label[:, :5] = 255  # an ignored band, as void pixels are
    sample_s = SegDataSample(gt_sem_seg=PixelData(data=label))
    sample_t = SegDataSample()
    for sample, img in ((sample_s, img_s), (sample_t, img_t)):
        sample.set_metainfo(dict(img_shape=img.shape[1:],
                                 ori_shape=img.shape[1:]))
    data = dict(
        source=dict(inputs=[img_s], data_samples=[sample_s]),
        target=dict(inputs=[img_t], data_samples=[sample_t]))
    return data, img_s, img_t, label[0]


def optim_cfg():
    return dict(
        type='OptimWrapper',
        optimizer=dict(
            type='SGD', lr=LR, momentum=0.9, weight_decay=5e-4),
        paramwise_cfg=dict(
            custom_keys=dict(
                decode_head=dict(lr_mult=10.0),
                auxiliary_head=dict(lr_mult=10.0))))


def normalise(img):
    mean = torch.tensor(MEAN).view(3, 1, 1)
    return (img.float() - mean)[None]  # BGR kept, no std


def up(logits, size):
    return F.interpolate(
        logits, size=size, mode='bilinear', align_corners=True)


def image_wise_weights(p, alpha):
    """Per image: w_c = 1 / max(n_c^a * N^(1-a), 1) at each pixel's argmax."""
    weights = []
    for prob in p:  # one image at a time, as METHODS.md describes it
        pred = prob.argmax(0)
        n = torch.bincount(pred.flatten(), minlength=prob.shape[0]).float()
        w_c = 1.0 / torch.clamp(n**alpha * n.sum()**(1 - alpha), min=1.0)
        weights.append(w_c[pred])
    return torch.stack(weights)[:, None].detach()


def reference_step(model, img_s, img_t, label, multi_level, lam, alpha,
                   delta=0.95):
    """One MaxSquare iteration in plain PyTorch (METHODS.md section 2)."""
    backbone, head = model.backbone, model.decode_head
    low_head = model.auxiliary_head if multi_level else None
    decay, heads = [], []
    for name, p in model.named_parameters():
        (heads if 'head' in name else decay).append(p)
    sgd = torch.optim.SGD([dict(params=decay), dict(params=heads, lr=10 * LR)],
                          lr=LR, momentum=0.9, weight_decay=5e-4)
    # 1. source cross-entropy (+ 0.1 * low-head CE)
    feats = backbone(normalise(img_s))
    size_s = img_s.shape[1:]
    loss = F.cross_entropy(up(head(feats), size_s), label[None],
                           ignore_index=255)
    if multi_level:
        loss = loss + 0.1 * F.cross_entropy(
            up(low_head(feats), size_s), label[None], ignore_index=255)
    # 2. target term
    feats = backbone(normalise(img_t))
    size_t = img_t.shape[1:]
    main = up(head(feats), size_t)
    p = main.softmax(1)
    b, c = p.shape[:2]
    if alpha is None:
        loss = loss + lam * (-(p**2).mean() / 2)
    else:
        w = image_wise_weights(p, alpha)
        loss = loss + lam * (-(p**2 * w).sum() / (b * c))
    if multi_level:
        low = up(low_head(feats), size_t)
        with torch.no_grad():
            p_f, p_l = main.softmax(1), low.softmax(1)
            target = ((p_f + p_l) / 2).argmax(1)
            keep = (p_f.max(1)[0] > delta) | (p_l.max(1)[0] > delta)
            target[~keep] = 255
        if keep.any():
            loss = loss + 0.1 * lam * F.cross_entropy(
                low, target, ignore_index=255)
    # 3. one SGD step
    sgd.zero_grad()
    loss.backward()
    sgd.step()
    return loss.detach()


@pytest.mark.parametrize('multi_level,alpha', [(False, None), (True, 0.2)])
def test_maxsquare_iteration_matches_plain_pytorch(multi_level, alpha):
    lam = 0.09 if multi_level else 0.1
    guidance = dict(
        type='SelfGuidanceLoss', loss_weight=0.1 * lam,
        threshold=0.95) if multi_level else None
    torch.manual_seed(0)
    model = MODELS.build(
        tiny_model_cfg(
            multi_level,
            dict(type='MaxSquareLoss', loss_weight=lam, iw_ratio=alpha),
            guidance))
    model.init_weights()
    if multi_level:
        # Make the low head confident enough that some pixels pass the
        # guidance threshold, so that term is really exercised.
        for conv in model.auxiliary_head.aspp_convs:
            conv.weight.data.mul_(30)
    model.train()
    reference = copy.deepcopy(model)
    start = copy.deepcopy(model.state_dict())
    data, img_s, img_t, label = make_batch()

    wrapper = build_optim_wrapper(model, optim_cfg())
    log_vars = model.train_step(data, wrapper)
    ref_loss = reference_step(reference, img_s, img_t, label, multi_level,
                              lam, alpha)

    torch.testing.assert_close(log_vars['loss'], ref_loss, rtol=1e-5,
                               atol=1e-6)
    if multi_level:
        assert log_vars['tgt.loss_self_guidance'] > 0
    changed = 0
    for (name, p), ref_p in zip(model.state_dict().items(),
                                reference.state_dict().values()):
        torch.testing.assert_close(p, ref_p, rtol=1e-5, atol=1e-6,
                                   msg=lambda m: f'{name}: {m}')
        changed += int(not torch.equal(p, start[name]))
    assert changed > 0


def test_two_domain_loss_keys_and_single_domain_batches():
    model = MODELS.build(
        tiny_model_cfg(True, dict(type='MaxSquareLoss', loss_weight=0.1),
                       dict(type='SelfGuidanceLoss', loss_weight=0.01)))
    data, *_ = make_batch()
    processed = model.data_preprocessor(data, training=True)
    losses = model(**processed, mode='loss')
    assert {
        'src.decode.loss_ce', 'src.aux.loss_ce', 'tgt.loss_max_square',
        'tgt.loss_self_guidance'
    } <= set(losses)
    # A single-domain batch (source-only, self-training) gets source CE only.
    single = model.data_preprocessor(data['source'], training=True)
    losses = model(**single, mode='loss')
    assert set(k for k in losses if 'loss' in k) == {
        'decode.loss_ce', 'aux.loss_ce'
    }


def test_target_labels_are_never_read():
    model = MODELS.build(
        tiny_model_cfg(False, dict(type='MaxSquareLoss', loss_weight=0.1)))
    model.eval()  # deterministic BN so two calls are comparable
    data, *_ = make_batch()
    processed = model.data_preprocessor(data, training=True)
    before = model(**processed, mode='loss')
    bogus = torch.full((1, 32, 48), 3, dtype=torch.long)
    processed['data_samples']['target'][0].gt_sem_seg = PixelData(data=bogus)
    after = model(**processed, mode='loss')
    for key in before:
        torch.testing.assert_close(before[key], after[key])


def test_predict_is_plain_encoder_decoder():
    model = MODELS.build(
        tiny_model_cfg(False, dict(type='MaxSquareLoss', loss_weight=0.1)))
    model.eval()
    data, *_ = make_batch()
    batch = model.data_preprocessor(data['target'], training=False)
    out = model(**batch, mode='predict')
    assert out[0].pred_sem_seg.data.shape == (1, 32, 48)
    assert out[0].seg_logits.data.shape == (NUM_CLASSES, 32, 48)


def test_logit_temperature_scales_training_logits_only():
    cfg = tiny_model_cfg(False, dict(type='MaxSquareLoss', loss_weight=0.1))
    model = MODELS.build(cfg)
    hot = MODELS.build(dict(cfg, logit_temperature=1.8))
    hot.load_state_dict(model.state_dict())
    model.eval(), hot.eval()
    data, *_ = make_batch()
    inputs = model.data_preprocessor(data, training=True)['inputs']['source']
    torch.testing.assert_close(
        hot.forward_domain(inputs).logits['main'],
        model.forward_domain(inputs).logits['main'] / 1.8)
    batch = model.data_preprocessor(data['target'], training=False)
    torch.testing.assert_close(
        hot(**batch, mode='predict')[0].seg_logits.data,
        model(**batch, mode='predict')[0].seg_logits.data)
    with pytest.raises(ValueError, match='logit_temperature'):
        MODELS.build(dict(cfg, logit_temperature=0))


class _InputsOnlyTerm(torch.nn.Module):
    """A term that reads only the target images (as DACS)."""

    needs_target_forward = False

    def __init__(self, read_logits=False):
        super().__init__()
        self.read_logits = read_logits
        self.seen = []

    def loss(self, source, target):
        self.seen.append(target)
        if self.read_logits:
            target.logits
        return dict(loss_zero=target.inputs.sum() * 0.0)


def test_no_target_forward_when_no_term_needs_it():
    data = make_batch()[0]
    model = MODELS.build(tiny_model_cfg(
        False, dict(type='MaxSquareLoss', loss_weight=0.1)))
    calls = []
    model.backbone.register_forward_hook(lambda *args: calls.append(1))
    term = _InputsOnlyTerm()
    model.uda_terms = torch.nn.ModuleList([term])
    batch = model.data_preprocessor(data, True)
    model.loss(batch['inputs'], batch['data_samples'])
    assert len(calls) == 1  # the source only
    target = term.seen[0]
    assert not target.has_forward
    assert torch.equal(target.inputs, batch['inputs']['target'])
    assert target.data_samples is batch['data_samples']['target']
    # with a term that needs it (MaxSquare's), the target runs again
    model.uda_terms = torch.nn.ModuleList([
        term, MODELS.build(dict(type='TargetOutputLoss', loss=dict(
            type='MaxSquareLoss', loss_weight=0.1)))])
    model.loss(batch['inputs'], batch['data_samples'])
    assert len(calls) == 3 and term.seen[1].has_forward
    # a term that reads what was not computed gets a clear error
    model.uda_terms = torch.nn.ModuleList([_InputsOnlyTerm(True)])
    with pytest.raises(RuntimeError, match='needs_target_forward = False'):
        model.loss(batch['inputs'], batch['data_samples'])


def test_init_weights_reaches_the_terms():
    """The terms' init_cfg (and their submodules') is applied by the
    model's init_weights, as for any MMEngine module; a term without one
    keeps its weights."""
    cfg = tiny_model_cfg(False, dict(type='MaxSquareLoss', loss_weight=0.1))
    discriminator = dict(
        type='FullyConvDiscriminator', in_channels=NUM_CLASSES,
        channels=(4, 4, 4, 4))
    cfg.uda_terms = [
        dict(type='OutputAdversarial', discriminator=discriminator,
             init_cfg=dict(type='Constant', val=0.25, bias=-1.0,
                           layer='Conv2d')),
        dict(type='OutputAdversarial', discriminator=discriminator),
    ]
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    untouched = copy.deepcopy(model.uda_terms[1].state_dict())
    model.init_weights()
    convs = [m for m in model.uda_terms[0].modules()
             if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 5
    for conv in convs:
        assert torch.all(conv.weight == 0.25) and torch.all(conv.bias == -1)
    after = model.uda_terms[1].state_dict()
    assert all(torch.equal(v, after[k]) for k, v in untouched.items())
