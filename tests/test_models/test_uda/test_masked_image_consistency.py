"""MIC term (METHODS.md sec. 7.6) stacked on DACS: whole DACS + MIC
iterations equal a plain PyTorch loop written from METHODS.md (losses,
every student parameter and buffer, the teacher), for both modes and both
backward schedules; DACS's pseudo-label and weight are shared (one teacher
forward, the un-mixed values, read from the target's SharedResults), an
order without DACS first is refused; the teacher softmax and threshold run
in fp32 under autocast; the randomness is torch's only; bad input is
named."""
import copy
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS
from test_dacs import (BOTTOM, LR, MEAN, STD, THRESHOLD, TOP, Recorder,
                       build_model, make_batch, mean_ce, tiny_cfg, up)

import mmseg_uda  # noqa: F401
from mmseg_uda.models.uda import DomainOutputs, SharedResults
from mmseg_uda.models.uda import masked_image_consistency as mic_module

BLOCK = 8  # 32 x 32 crops -> a 4 x 4 grid
RATIO = 0.7
MASK_SEED = 1234


def mic_term(**kwargs):
    term = dict(type='MaskedImageConsistency', mask_block_size=BLOCK,
                mask_ratio=RATIO)
    term.update(kwargs)
    return term


def build_dacs_mic(backward_per_domain=True, **kwargs):
    torch.manual_seed(0)
    model = MODELS.build(dict(tiny_cfg(extra_terms=[mic_term(**kwargs)]),
                              backward_per_domain=backward_per_domain))
    model.init_weights()
    torch.nn.init.normal_(model.decode_head.aspp_convs[0].weight, std=0.3)
    model.train()
    return model


class MicRecorder:
    """Records MIC's augmentation and masking calls, fixes its gates and
    seeds torch right before the mask is drawn (so the test can redraw
    the same cells)."""

    def __init__(self, monkeypatch, gates):
        self.transforms, self.masks, self.gate_calls = [], [], []
        real_transform = mic_module.strong_transform
        real_mask = mic_module.mask_images

        def gates_fn(p, blur):
            self.gate_calls.append(dict(p=p, blur=blur))
            return gates

        def transform(images, mean, std, jitter, blur, **kwargs):
            out = real_transform(images, mean, std, jitter, blur, **kwargs)
            self.transforms.append(dict(
                images=images.clone(), mean=mean, std=std, jitter=jitter,
                blur=blur, kwargs=kwargs, out=out.clone()))
            return out

        def mask(images, block_size, ratio):
            seed = MASK_SEED + len(self.masks)
            torch.manual_seed(seed)
            out = real_mask(images, block_size, ratio)
            self.masks.append(dict(images=images.clone(), block=block_size,
                                   ratio=ratio, seed=seed, out=out.clone()))
            return out

        monkeypatch.setattr(mic_module, 'draw_strong_gates', gates_fn)
        monkeypatch.setattr(mic_module, 'strong_transform', transform)
        monkeypatch.setattr(mic_module, 'mask_images', mask)


# --- the released iteration with MIC, written from METHODS.md ---


def reference_block_mask(seed, batch, height, width):
    """Sec. 7.6: a round(H/b) x round(W/b) grid per image, kept iff
    U(0, 1) > r (torch), nearest upsampling (here H, W are multiples of
    b, so every cell is a b x b block)."""
    torch.manual_seed(seed)
    cells = torch.rand(batch, 1, round(height / BLOCK), round(width / BLOCK))
    keep = (cells > RATIO).float()
    return keep.repeat_interleave(BLOCK, 2).repeat_interleave(BLOCK, 3)


def reference_iteration(student, teacher, opt, t, imgs_s, imgs_t, labels,
                        record, mic_record, mode, alpha=0.99):
    backbone, head = student
    t_backbone, t_head = teacher
    # 1. teacher update (start of iteration t, index t)
    with torch.no_grad():
        s_params = list(backbone.parameters()) + list(head.parameters())
        t_params = list(t_backbone.parameters()) + list(t_head.parameters())
        for tp, sp in zip(t_params, s_params):
            a = 0.0 if t == 0 else min(1 - 1 / (t + 1), alpha)
            tp.copy_(a * tp + (1 - a) * sp)
    opt.zero_grad()
    x_s = (imgs_s.float() - MEAN) / STD
    x_t = (imgs_t.float() - MEAN) / STD
    size = x_s.shape[2:]
    # 3. source CE
    l_src = mean_ce(up(head(backbone(x_s)), size, False), labels)
    # 5-6. the teacher's pseudo-label and weight, once
    with torch.no_grad():
        p = F.softmax(up(t_head(t_backbone(x_t)), size, False), 1)
    p_max, y_t = p.max(1)
    q = (p_max >= THRESHOLD).float().mean()
    assert 0 < q < 1
    w_t = torch.full_like(p_max, q.item())
    w_t[:, :TOP] = 0
    w_t[:, -BOTTOM:] = 0
    # 7-9. DACS's mixed loss on its recorded ClassMix masks / transform
    m = record.masks[-1]['out']
    y_m = torch.where(m[:, 0].bool(), labels, y_t)
    w_m = m[:, 0] + (1 - m[:, 0]) * w_t
    x_mix = record.transforms[-1]['out']
    l_mix = mean_ce(up(head(backbone(x_mix)), size, False), y_m, w_m)
    # 10. MIC on the un-mixed pseudo-label and weight
    if mode == 'separatetrgaug':
        x, y, w = x_t, y_t, w_t
        transform = mic_record.transforms[-1]
        torch.testing.assert_close(transform['images'], x)
        x = transform['out']
    else:  # 'separate': source 0 with its label, target 0; no augmentation
        x = torch.stack([x_s[0], x_t[0]])
        y = torch.stack([labels[0], y_t[0]])
        w = torch.stack([torch.ones_like(w_t[0]), w_t[0]])
    call = mic_record.masks[-1]
    torch.testing.assert_close(call['images'], x)
    x_masked = x * reference_block_mask(call['seed'], x.shape[0], *size)
    l_mic = mean_ce(up(head(backbone(x_masked)), size, False), y, w)
    total = l_src + l_mix + l_mic
    total.backward()
    opt.step()
    return dict(total=total.detach(), src=l_src.detach(),
                mix=l_mix.detach(), mic=l_mic.detach())


@pytest.mark.parametrize('mode,gates,backward_per_domain', [
    ('separatetrgaug', (True, True), True),
    ('separatetrgaug', (False, True), False),
    ('separate', (True, False), True),
])
def test_three_dacs_mic_iterations_match_the_plain_loop(
        monkeypatch, mode, gates, backward_per_domain):
    model = build_dacs_mic(backward_per_domain, mode=mode)
    dacs = model.uda_terms[0]
    student = (copy.deepcopy(model.backbone),
               copy.deepcopy(model.decode_head))
    teacher = (copy.deepcopy(model.backbone),
               copy.deepcopy(model.decode_head))
    opt = torch.optim.SGD(
        list(student[0].parameters()) + list(student[1].parameters()),
        lr=LR, momentum=0.9, weight_decay=5e-4)
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(
            type='SGD', lr=LR, momentum=0.9, weight_decay=5e-4)))
    record = Recorder(monkeypatch, (True, True))
    mic_record = MicRecorder(monkeypatch, gates)
    for t in range(3):
        data, imgs_s, imgs_t, labels = make_batch(seed=t)
        log_vars = model.train_step(data, wrapper)
        ref = reference_iteration(student, teacher, opt, t, imgs_s, imgs_t,
                                  labels, record, mic_record, mode)
        mask = mic_record.masks[-1]
        assert (mask['block'], mask['ratio']) == (BLOCK, RATIO)
        if mode == 'separatetrgaug':
            # fresh gates, blur drawn whatever DACS's flag; one call for
            # the batch: one order and one sigma
            assert mic_record.gate_calls[-1] == dict(p=0.2, blur=True)
            call = mic_record.transforms[-1]
            assert (call['jitter'], call['blur']) == gates
            assert call['kwargs'] == dict(
                strength=0.2, sigma_range=(0.15, 1.15),
                per_image_sigma=False, per_image_jitter=False)
            torch.testing.assert_close(call['mean'].flatten(),
                                       MEAN.flatten())
            torch.testing.assert_close(call['std'].flatten(), STD.flatten())
            assert len(mic_record.transforms) == t + 1
        else:
            assert not mic_record.transforms and not mic_record.gate_calls
        for key, value in (('src.decode.loss_ce', ref['src']),
                           ('tgt.loss_mix', ref['mix']),
                           ('tgt.loss_mic', ref['mic']),
                           ('loss', ref['total'])):
            torch.testing.assert_close(log_vars[key], value, rtol=1e-5,
                                       atol=1e-6, msg=lambda m: f'{key}: {m}')
        ref_state = dict(student[0].state_dict(prefix='backbone.'))
        ref_state.update(student[1].state_dict(prefix='decode_head.'))
        for name, value in model.state_dict().items():
            if name.startswith(('backbone.', 'decode_head.')):
                torch.testing.assert_close(
                    value, ref_state[name], rtol=1e-5, atol=1e-6,
                    msg=lambda m: f'iteration {t}, {name}: {m}')
        ref_teacher = dict(teacher[0].state_dict(prefix='backbone.'))
        ref_teacher.update(teacher[1].state_dict(prefix='decode_head.'))
        for name, value in dacs.teacher.state_dict().items():
            if name != '_extra_state':
                torch.testing.assert_close(
                    value, ref_teacher[name], rtol=1e-5, atol=1e-6,
                    msg=lambda m: f'iteration {t}, teacher {name}: {m}')


def test_one_teacher_forward_three_student_forwards():
    model = build_dacs_mic()
    teacher_calls, student_calls = [], []
    model.uda_terms[0].teacher.backbone.register_forward_hook(
        lambda *args: teacher_calls.append(1))
    model.backbone.register_forward_hook(
        lambda *args: student_calls.append(1))
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=LR)))
    for seed in range(2):
        log_vars = model.train_step(make_batch(seed)[0], wrapper)
    assert len(teacher_calls) == 2  # DACS's only: MIC shares its output
    assert len(student_calls) == 6  # source, mixed, masked
    assert {'tgt.loss_mix', 'tgt.loss_mic'} <= set(log_vars)


def test_mic_reads_the_published_values_not_its_own():
    """Given a target store with chosen ŷ and w_t, the masked loss is
    the weighted CE against exactly those."""
    model = build_dacs_mic(mode='separatetrg')
    term = model.uda_terms[1]
    x_t = torch.randn(2, 3, 32, 32)
    labels = torch.randint(0, 4, (2, 32, 32))
    weights = torch.rand(2, 32, 32)
    target = DomainOutputs.inputs_only(x_t, False)
    target.shared.publish('pseudo_label', labels, by='test')
    target.shared.publish('pseudo_weight', weights, by='test')
    torch.manual_seed(5)
    mask = reference_block_mask(5, 2, 32, 32)
    torch.manual_seed(5)
    loss = term.loss(None, target)['loss_mic']
    logits = model.decode_head(model.backbone(x_t * mask))
    expected = mean_ce(up(logits, (32, 32), False), labels, weights)
    torch.testing.assert_close(loss, expected)
    assert torch.equal(target.inputs, x_t)  # the images are not modified


def test_dacs_publishes_before_mixing_and_only_once():
    model = build_model()
    dacs = model.uda_terms[0]
    data = model.data_preprocessor(make_batch()[0], training=True)
    target = DomainOutputs.inputs_only(data['inputs']['target'], False)
    source = model.forward_domain(data['inputs']['source'],
                                  data['data_samples']['source'])
    dacs.teacher.update(dacs.teacher.mirrored(model))  # the t = 0 copy
    dacs.teacher.t = 0
    labels, weight, _ = dacs.pseudo_labels(target.inputs)
    dacs.loss(source.detached(), target)
    assert target.shared.keys() == ('pseudo_label', 'pseudo_weight')
    assert torch.equal(target.shared.get('pseudo_label', 'test'), labels)
    # w_t, not the mixed weight (which is 1 on pasted source pixels)
    assert torch.equal(target.shared.get('pseudo_weight', 'test'), weight)
    assert weight.dtype == torch.float32 and labels.dtype == torch.int64
    with pytest.raises(KeyError, match="'pseudo_label'.*DACS published"):
        dacs.loss(source.detached(), target)


def test_mixed_graph_is_released_before_the_masked_forward():
    model = build_dacs_mic()
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=LR)))
    grads = []
    original = model.forward_domain

    def spy(inputs, data_samples=None):
        grads.append(sum(p.grad.abs().sum().item()
                         for p in model.decode_head.parameters()
                         if p.grad is not None))
        return original(inputs, data_samples)

    model.forward_domain = spy
    model.train_step(make_batch()[0], wrapper)
    source_done, mixed_done = grads[1], grads[2]
    # before the masked (third) forward the mixed loss was back-propagated
    assert len(grads) == 3 and 0 < source_done < mixed_done


def test_same_torch_seed_same_iteration_whatever_numpy_and_random():
    runs = []
    for other in (0, 1):
        model = build_dacs_mic()
        wrapper = build_optim_wrapper(model, dict(
            type='OptimWrapper', optimizer=dict(type='SGD', lr=LR)))
        np.random.seed(other)
        random.seed(other)
        torch.manual_seed(11)
        runs.append(model.train_step(make_batch()[0], wrapper))
    assert runs[0]['tgt.loss_mic'] == runs[1]['tgt.loss_mic']
    assert runs[0]['loss'] == runs[1]['loss']


def test_teacher_softmax_and_threshold_in_fp32_under_autocast():
    """Under CPU bfloat16 autocast the teacher's logits are bfloat16; the
    softmax and the threshold test must run on them in fp32. The threshold
    is chosen where a bfloat16 softmax would count differently."""
    captured = []

    def run(threshold):
        model = build_dacs_mic()
        model.uda_terms[0].pseudo_threshold = threshold
        model.uda_terms[0].teacher.decode_head.register_forward_hook(
            lambda module, args, out: captured.append(out))
        data = model.data_preprocessor(make_batch()[0], training=True)
        published = {}
        original = model.uda_terms[1].loss

        def spy(source, target):
            published.update({k: target.shared.get(k, 'test')
                              for k in target.shared.keys()})
            return original(source, target)

        model.uda_terms[1].loss = spy
        with torch.autocast('cpu', dtype=torch.bfloat16):
            losses = model(**data, mode='loss')
        return losses, published

    run(THRESHOLD)
    logits = captured[-1]
    assert logits.dtype == torch.bfloat16
    p32 = F.softmax(up(logits.float(), (32, 32), False), 1).max(1).values
    p16 = F.softmax(up(logits, (32, 32), False), 1).max(1).values.float()
    # a threshold at which a bfloat16 softmax would count other pixels
    candidates = p32.flatten()
    count32 = (p32.flatten()[None] >= candidates[:, None]).sum(1)
    count16 = (p16.flatten()[None] >= candidates[:, None]).sum(1)
    differ = (count32 != count16).nonzero()
    assert len(differ) > 0
    threshold = candidates[differ[len(differ) // 2, 0]].item()
    losses, published = run(threshold)
    torch.testing.assert_close(captured[-1], logits)  # same teacher input
    q32 = (p32 >= threshold).float().mean()
    q16 = (p16 >= threshold).float().mean()
    assert q32 != q16
    weight = published['pseudo_weight']
    assert weight.dtype == torch.float32
    torch.testing.assert_close(weight[0, TOP], torch.full((32, ), q32))
    assert torch.equal(published['pseudo_label'],
                       up(logits.float(), (32, 32), False).argmax(1))
    for key in ('tgt.loss_mix', 'tgt.loss_mic'):
        assert losses[key].dtype == torch.float32
        assert torch.isfinite(losses[key])


def test_mic_without_dacs_before_it_is_refused():
    with pytest.raises(ValueError, match=r"(?s)uda_terms\[0\] "
                       r"\(MaskedImageConsistency\) reads \['pseudo_label', "
                       r"'pseudo_weight'\].*none.*DACS"):
        MODELS.build(dict(tiny_cfg(), uda_terms=[mic_term()]))
    cfg = tiny_cfg(extra_terms=[mic_term()])
    cfg.uda_terms = cfg.uda_terms[::-1]  # MIC first, then DACS
    with pytest.raises(ValueError, match=r'uda_terms\[0\]'):
        MODELS.build(cfg)
    cfg = tiny_cfg(extra_terms=[dict(type='DACS')])
    with pytest.raises(ValueError, match=r"uda_terms\[1\] \(DACS\) "
                       r"publishes 'pseudo_label'"):
        MODELS.build(cfg)
    # at run time too: an empty store names what is missing
    term = MODELS.build(mic_term())
    target = DomainOutputs.inputs_only(torch.zeros(2, 3, 32, 32), False)
    with pytest.raises(KeyError, match=r"MaskedImageConsistency reads "
                       r"'pseudo_label'.*published: none"):
        term.masked_batch(None, target)


def test_shared_results_are_write_once_and_gradient_free():
    store = SharedResults()
    store.publish('a', torch.zeros(2), by='X')
    with pytest.raises(KeyError, match="Y publishes 'a', which X"):
        store.publish('a', torch.ones(2), by='Y')
    with pytest.raises(ValueError, match='gradient'):
        store.publish('b', torch.zeros(2, requires_grad=True), by='X')
    assert 'a' in store and 'b' not in store
    outputs = DomainOutputs.inputs_only(torch.zeros(1, 3, 4, 4), False)
    assert outputs.detached().shared is outputs.shared


def test_bad_input_is_named():
    model = build_dacs_mic(mask_block_size=64)  # larger than the 32 crops
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=LR)))
    with pytest.raises(ValueError, match=r'32x32 \(HxW\).*\(64x64\)'):
        model.train_step(make_batch()[0], wrapper)
    for bad, match in ((dict(mode='separatesrc'), 'mode'),
                       (dict(mask_ratio=1.0), 'mask_ratio'),
                       (dict(mask_block_size=0), 'mask_block_size'),
                       (dict(blur_sigma=(1.0, 0.5)), 'blur_sigma')):
        with pytest.raises(ValueError, match=match):
            MODELS.build(mic_term(**bad))
