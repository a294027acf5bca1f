"""DACS term: whole iterations equal a plain PyTorch loop written from
METHODS.md sec. 7.1 (every student parameter and buffer, the teacher, the
losses); two student forwards alone, three with MaxSquare; the CE
normalisation; the teacher is outside every optimiser, in the checkpoint,
filled from a source-only load_from; the teacher softmax and the 0.968
test in fp32 under autocast; bad input is named."""
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
from mmseg_uda.models.uda import dacs as dacs_module

C = 4
LR = 0.01
MEAN = torch.tensor([100., 110., 120.]).view(1, 3, 1, 1)
STD = torch.tensor([50., 60., 70.]).view(1, 3, 1, 1)
THRESHOLD = 0.4  # a random network is unsure; q must be strictly in (0, 1)
TOP, BOTTOM = 2, 3


def tiny_cfg(align_corners=False, extra_terms=(), **term):
    bn = dict(type='BN', requires_grad=True)
    dacs = dict(
        type='DACS',
        alpha=0.99,
        pseudo_threshold=THRESHOLD,
        pseudo_weight_ignore_top=TOP,
        pseudo_weight_ignore_bottom=BOTTOM)
    dacs.update(term)
    return ConfigDict(
        type='UDAEncoderDecoder',
        data_preprocessor=dict(
            type='UDADataPreProcessor',
            mean=MEAN.flatten().tolist(),
            std=STD.flatten().tolist(),
            bgr_to_rgb=False,
            seg_pad_val=255),
        backbone=dict(
            type='DeepLabResNet',
            depth=50,
            stage_blocks=(1, 1, 1, 1),
            base_channels=8,
            stem_channels=8,
            norm_cfg=bn),
        decode_head=dict(
            type='DeepLabV2Head',
            in_channels=256,
            in_index=3,
            dilations=(6, 12),
            num_classes=C,
            align_corners=align_corners,
            loss_decode=dict(
                type='CrossEntropyLoss', loss_weight=1.0,
                avg_non_ignore=False)),
        uda_terms=[dacs] + list(extra_terms),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def build_model(**kwargs):
    torch.manual_seed(0)
    model = MODELS.build(tiny_cfg(**kwargs))
    model.init_weights()
    # a more confident classifier, so that q is neither 0 nor 1
    torch.nn.init.normal_(model.decode_head.aspp_convs[0].weight, std=0.3)
    model.train()
    return model


def make_batch(seed=0, size=(32, 32)):
    g = torch.Generator().manual_seed(seed)
    imgs_s = [torch.randint(0, 256, (3, *size), generator=g,
                            dtype=torch.uint8) for _ in range(2)]
    imgs_t = [torch.randint(0, 256, (3, *size), generator=g,
                            dtype=torch.uint8) for _ in range(2)]
    labels, samples_s, samples_t = [], [], []
    for _ in range(2):
        label = torch.randint(0, C, (1, *size), generator=g)
        label[:, :5] = 255
        labels.append(label[0])
        samples_s.append(SegDataSample(gt_sem_seg=PixelData(data=label)))
        samples_t.append(SegDataSample())
    for sample in samples_s + samples_t:
        sample.set_metainfo(dict(img_shape=size, ori_shape=size))
    data = dict(
        source=dict(inputs=imgs_s, data_samples=samples_s),
        target=dict(inputs=imgs_t, data_samples=samples_t))
    return data, torch.stack(imgs_s), torch.stack(imgs_t), torch.stack(labels)


class Recorder:
    """Wraps the term's augmentation functions, records what they got and
    gave, and fixes the two gates."""

    def __init__(self, monkeypatch, gates):
        self.masks, self.transforms, self.gates = [], [], gates
        real_masks = dacs_module.class_mix_masks
        real_transform = dacs_module.strong_transform

        def masks(labels, scope, ignore_index):
            out = real_masks(labels, scope, ignore_index)
            self.masks.append(dict(labels=labels.clone(), scope=scope,
                                   ignore_index=ignore_index, out=out))
            return out

        def transform(images, mean, std, jitter, blur, **kwargs):
            out = real_transform(images, mean, std, jitter, blur, **kwargs)
            self.transforms.append(dict(
                images=images.clone(), mean=mean, std=std, jitter=jitter,
                blur=blur, kwargs=kwargs, out=out.clone()))
            return out

        monkeypatch.setattr(dacs_module, 'class_mix_masks', masks)
        monkeypatch.setattr(dacs_module, 'strong_transform', transform)
        monkeypatch.setattr(dacs_module, 'draw_strong_gates',
                            lambda p, blur: self.gates)


# --- the released iteration, written from METHODS.md sec. 7.1 ---


def up(logits, size, align_corners):
    return F.interpolate(logits, size, mode='bilinear',
                         align_corners=align_corners)


def mean_ce(logits, labels, weight=None):
    """CE per pixel (ignored pixels 0) x weight, mean over all B*H*W."""
    ce = F.cross_entropy(logits, labels, ignore_index=255, reduction='none')
    if weight is not None:
        ce = ce * weight
    return ce.sum() / labels.numel()


def reference_iteration(student, teacher, opt, t, imgs_s, imgs_t, labels,
                        record, align_corners, alpha=0.99):
    backbone, head = student
    t_backbone, t_head = teacher
    # 1. teacher update (start of iteration t, index t)
    with torch.no_grad():
        s_params = list(backbone.parameters()) + list(head.parameters())
        t_params = list(t_backbone.parameters()) + list(t_head.parameters())
        for tp, sp in zip(t_params, s_params):
            if t == 0:
                tp.copy_(sp)
            else:
                a = min(1 - 1 / (t + 1), alpha)
                tp.copy_(a * tp + (1 - a) * sp)
    opt.zero_grad()
    x_s = (imgs_s.float() - MEAN) / STD
    x_t = (imgs_t.float() - MEAN) / STD
    size = x_s.shape[2:]
    # 3. source CE, mean over all pixels (ignored ones included)
    l_src = mean_ce(up(head(backbone(x_s)), size, align_corners), labels)
    # 5. pseudo-labels: teacher in train mode (BN batch statistics)
    with torch.no_grad():
        p = F.softmax(up(t_head(t_backbone(x_t)), size, align_corners), 1)
    p_max, y_t = p.max(1)
    # 6. one q for the batch, then the band
    q = (p_max >= THRESHOLD).float().mean()
    assert 0 < q < 1  # the test is meaningful
    w_t = torch.full_like(p_max, q.item())
    w_t[:, :TOP] = 0
    w_t[:, -BOTTOM:] = 0
    # 7-8. mix with the term's ClassMix masks (recorded)
    m = record.masks[-1]['out']
    x_m = m * x_s + (1 - m) * x_t
    y_m = torch.where(m[:, 0].bool(), labels, y_t)
    w_m = m[:, 0] * 1 + (1 - m[:, 0]) * w_t
    transform = record.transforms[-1]
    torch.testing.assert_close(transform['images'], x_m)
    x_aug = transform['out']
    # 9. the mixed batch's own student forward
    l_mix = mean_ce(up(head(backbone(x_aug)), size, align_corners), y_m,
                    w_m)
    total = l_src + l_mix
    total.backward()
    opt.step()
    return dict(total=total.detach(), src=l_src.detach(),
                mix=l_mix.detach(), q=q)


@pytest.mark.parametrize('align_corners,gates', [(False, (True, True)),
                                                 (True, (False, False))])
def test_three_dacs_iterations_match_the_plain_loop(monkeypatch,
                                                    align_corners, gates):
    model = build_model(align_corners=align_corners)
    term = model.uda_terms[0]
    student = (copy.deepcopy(model.backbone),
               copy.deepcopy(model.decode_head))
    teacher = (copy.deepcopy(model.backbone),
               copy.deepcopy(model.decode_head))
    with torch.no_grad():  # the copy at t = 0 must overwrite these
        for p in list(teacher[0].parameters()) + list(
                teacher[1].parameters()):
            p.add_(1.0)
        for p in term.teacher.parameters():
            p.add_(1.0)
    opt = torch.optim.SGD(
        list(student[0].parameters()) + list(student[1].parameters()),
        lr=LR, momentum=0.9, weight_decay=5e-4)
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(
            type='SGD', lr=LR, momentum=0.9, weight_decay=5e-4)))
    record = Recorder(monkeypatch, gates)
    for t in range(3):
        data, imgs_s, imgs_t, labels = make_batch(seed=t)
        log_vars = model.train_step(data, wrapper)
        ref = reference_iteration(student, teacher, opt, t, imgs_s, imgs_t,
                                  labels, record, align_corners)
        call = record.transforms[-1]
        assert (call['jitter'], call['blur']) == gates
        assert call['kwargs'] == dict(strength=0.2,
                                      sigma_range=(0.15, 1.15),
                                      per_image_sigma=True)
        torch.testing.assert_close(call['mean'].flatten(), MEAN.flatten())
        torch.testing.assert_close(call['std'].flatten(), STD.flatten())
        assert record.masks[-1]['scope'] == 'batch'
        assert torch.equal(record.masks[-1]['labels'], labels)
        assert {'src.decode.loss_ce', 'tgt.loss_mix',
                'tgt.pseudo_quality'} <= set(log_vars)
        torch.testing.assert_close(log_vars['src.decode.loss_ce'],
                                   ref['src'], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(log_vars['tgt.loss_mix'], ref['mix'],
                                   rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(log_vars['tgt.pseudo_quality'], ref['q'])
        torch.testing.assert_close(log_vars['loss'], ref['total'],
                                   rtol=1e-5, atol=1e-6)
        ref_state = dict(student[0].state_dict(prefix='backbone.'))
        ref_state.update(student[1].state_dict(prefix='decode_head.'))
        for name, value in model.state_dict().items():
            if name.startswith(('backbone.', 'decode_head.')):
                torch.testing.assert_close(
                    value, ref_state[name], rtol=1e-5, atol=1e-6,
                    msg=lambda m: f'iteration {t}, {name}: {m}')
        ref_teacher = dict(teacher[0].state_dict(prefix='backbone.'))
        ref_teacher.update(teacher[1].state_dict(prefix='decode_head.'))
        for name, value in term.teacher.state_dict().items():
            if name == '_extra_state':
                assert int(value) == t + 1
                continue
            # teacher BN buffers: its own batch statistics of the target
            torch.testing.assert_close(
                value, ref_teacher[name], rtol=1e-5, atol=1e-6,
                msg=lambda m: f'iteration {t}, teacher {name}: {m}')


def count_student_forwards(model):
    calls = []
    model.backbone.register_forward_hook(lambda *args: calls.append(1))
    return calls


def test_dacs_alone_runs_two_student_forwards_with_maxsquare_three():
    data = make_batch()[0]
    model = build_model()
    calls = count_student_forwards(model)
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=LR)))
    model.train_step(data, wrapper)
    assert len(calls) == 2  # source, mixed
    torch.manual_seed(0)
    both = MODELS.build(tiny_cfg(extra_terms=[dict(
        type='TargetOutputLoss',
        loss=dict(type='MaxSquareLoss', loss_weight=0.1))]))
    calls = count_student_forwards(both)
    wrapper = build_optim_wrapper(both, dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=LR)))
    log_vars = both.train_step(data, wrapper)
    assert len(calls) == 3  # source, target, mixed
    assert {'tgt.loss_mix', 'tgt.loss_max_square'} <= set(log_vars)


def test_mixed_ce_is_the_mean_over_all_pixels_ignored_included():
    term = build_model().uda_terms[0]
    logits = torch.tensor([[[[2.0, 0.0, 1.0]], [[0.0, 1.0, 1.0]]]])
    labels = torch.tensor([[[0, 255, 1]]])
    weight = torch.tensor([[[0.5, 1.0, 0.25]]])
    loss = term.mix_loss(logits, labels, weight=weight, ignore_index=255)
    ce0 = -torch.log_softmax(torch.tensor([2.0, 0.0]), 0)[0]
    ce2 = -torch.log_softmax(torch.tensor([1.0, 1.0]), 0)[1]
    # three pixels in the denominator, not the two labelled ones
    torch.testing.assert_close(loss, (0.5 * ce0 + 0.25 * ce2) / 3)


def test_teacher_outside_optimisers_inside_the_checkpoint():
    model = build_model()
    term = model.uda_terms[0]
    teacher_ids = {id(p) for p in term.teacher.parameters()}
    assert not teacher_ids & {id(p) for p in model.parameters()}
    assert not {id(b) for b in term.teacher.buffers()} & {
        id(b) for b in model.buffers()}
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=LR)))
    in_optim = {id(p) for g in wrapper.optimizer.param_groups
                for p in g['params']}
    assert not teacher_ids & in_optim
    model.train_step(make_batch()[0], wrapper)
    state = model.state_dict()
    keys = [k for k in state if k.startswith('uda_terms.0.teacher.')]
    assert len(keys) == len(term.teacher.state_dict())
    assert int(state['uda_terms.0.teacher._extra_state']) == 1
    fresh = MODELS.build(tiny_cfg())
    result = fresh.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert fresh.uda_terms[0].teacher.t == 1
    for key, value in fresh.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_source_only_load_from_initialises_the_student_then_the_teacher(
        monkeypatch):
    source_only = build_model().state_dict()
    source_only = {k: v + 1 if v.is_floating_point() else v
                   for k, v in source_only.items()
                   if not k.startswith('uda_terms.')}
    model = build_model()
    result = model.load_state_dict(source_only, strict=False)
    teacher = model.uda_terms[0].teacher
    assert 'uda_terms.0.teacher._extra_state' in result.missing_keys
    assert teacher.t == 0
    Recorder(monkeypatch, (False, False))
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=0.0)))
    model.train_step(make_batch()[0], wrapper)
    for name, value in teacher.named_parameters():
        assert torch.equal(value, source_only[name]), name


def test_bad_input_is_named():
    model = build_model()
    state = model.state_dict()
    key = 'uda_terms.0.teacher.decode_head.aspp_convs.0.weight'
    state[key] = torch.zeros(3, 256, 3, 3)
    with pytest.raises(ValueError, match=r'(?s)uda_terms\.0\.teacher\.\*'
                       r'.*aspp_convs\.0\.weight'):
        build_model().load_state_dict(state, strict=False)
    data = make_batch()[0]
    data['source']['data_samples'][0].gt_sem_seg = PixelData(
        data=torch.zeros(1, 16, 16, dtype=torch.long))
    data['source']['data_samples'][1].gt_sem_seg = PixelData(
        data=torch.zeros(1, 16, 16, dtype=torch.long))
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=LR)))
    with pytest.raises(ValueError, match=r'labels of size \(16, 16\)'):
        model.train_step(data, wrapper)
    for bad, match in ((dict(classmix_scope='all'), 'classmix_scope'),
                       (dict(quality_scope='pixel'), 'quality_scope'),
                       (dict(alpha=1.5), 'alpha'),
                       (dict(pseudo_weight_ignore_top=-1), 'ignore_top'),
                       (dict(blur_sigma=(1.0, 0.5)), 'blur_sigma')):
        with pytest.raises(ValueError, match=match):
            MODELS.build(tiny_cfg(**bad))


AUTOCAST = [('cpu', torch.bfloat16)] + ([('cuda', torch.bfloat16),
                                         ('cuda', torch.float16)]
                                        if torch.cuda.is_available() else [])


@pytest.mark.parametrize('device,dtype', AUTOCAST)
def test_teacher_softmax_and_threshold_in_fp32_under_autocast(device, dtype):
    """sec. 7.9 porting note: under AMP the teacher's logits come in low
    precision, but the softmax and the 0.968 test run in fp32. Constant
    logits (4.5, 0, 0, 0) give max p = e^4.5 / (e^4.5 + 3) = 0.96775 < 0.968
    in fp32, while a bf16 softmax rounds it to 0.96875 >= 0.968: q must be
    0, as without autocast."""
    model = build_model().to(device)
    term = model.uda_terms[0]
    head = term.teacher.decode_head
    with torch.no_grad():
        for conv in head.aspp_convs:  # two summed branches: 2.25 + 2.25
            conv.weight.zero_()
            conv.bias.copy_(torch.tensor([2.25, 0.0, 0.0, 0.0]))
    threshold = 0.968
    term.pseudo_threshold = threshold
    p = torch.exp(torch.tensor(4.5)) / (torch.exp(torch.tensor(4.5)) + 3)
    assert p < threshold <= p.to(torch.bfloat16)  # the case is a real one
    x = torch.randn(2, 3, 32, 32, device=device)
    with torch.autocast(device, dtype=dtype):
        labels, weight, quality = term.pseudo_labels(x)
    plain = term.pseudo_labels(x)
    assert weight.dtype == torch.float32 and labels.dtype == torch.int64
    assert float(quality) == 0.0
    assert torch.equal(labels, torch.zeros_like(labels))
    assert not weight.any()
    for got, want in zip((labels, weight, quality), plain):
        assert torch.equal(got, want)
