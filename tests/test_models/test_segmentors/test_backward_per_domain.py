"""Per-domain backward (UDAEncoderDecoder.backward_per_domain): the same
update as one backward pass of the summed loss, for MaxSquare (one SGD)
and FADA (SGD + the discriminator's Adam through MultiOptimWrapper), and
the source graph is released before the target forward."""
import copy

import torch
from mmengine.config import ConfigDict
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS
from test_uda_encoder_decoder import make_batch, optim_cfg, tiny_model_cfg

import mmseg_uda  # noqa: F401
from mmseg_uda.engine.optimizers import active_optim_wrapper


def fada_cfg() -> ConfigDict:
    cfg = tiny_model_cfg(False, dict(type='MaxSquareLoss', loss_weight=0.1))
    cfg.decode_head.num_active_branches = None
    cfg.logit_temperature = 1.8
    cfg.uda_terms = [
        dict(
            type='FineGrainedAdversarial',
            discriminator=dict(
                type='FineGrainedDiscriminator', num_classes=5,
                in_channels=256, channels=(16, 8)))
    ]
    return cfg


def fada_optim_cfg() -> dict:
    return dict(
        constructor='MultiOptimWrapperConstructor',
        segmentor=optim_cfg(),
        discriminator=dict(
            type='OptimWrapper',
            optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.99)),
            modules=['uda_terms.0.discriminator']))


def two_runs(cfg, wrapper_cfg, steps=2):
    """State dicts and logs after ``steps`` train steps, per-domain backward
    on and off, from one initialisation and the same batches."""
    torch.manual_seed(0)
    on = MODELS.build(dict(cfg, backward_per_domain=True))
    on.init_weights()
    off = MODELS.build(dict(cfg, backward_per_domain=False))
    off.load_state_dict(on.state_dict())
    out = []
    for model in (on, off):
        model.train()
        wrapper = build_optim_wrapper(model, copy.deepcopy(wrapper_cfg))
        logs = [model.train_step(make_batch(seed)[0], wrapper)
                for seed in range(steps)]
        out.append((model.state_dict(), logs))
    return out


def assert_same(run_on, run_off):
    (state_on, logs_on), (state_off, logs_off) = run_on, run_off
    for name in state_off:
        torch.testing.assert_close(state_on[name], state_off[name],
                                   rtol=1e-5, atol=1e-6,
                                   msg=lambda m: f'{name}: {m}')
    for log_on, log_off in zip(logs_on, logs_off):
        assert log_on.keys() == log_off.keys()
        for key in log_off:
            torch.testing.assert_close(log_on[key], log_off[key], rtol=1e-5,
                                       atol=1e-6)


def test_maxsquare_update_equals_one_backward():
    cfg = tiny_model_cfg(
        True, dict(type='MaxSquareLoss', loss_weight=0.09, iw_ratio=0.2),
        dict(type='SelfGuidanceLoss', loss_weight=0.009, threshold=0.95))
    assert_same(*two_runs(cfg, optim_cfg()))


def test_fada_update_equals_one_backward():
    assert_same(*two_runs(fada_cfg(), fada_optim_cfg()))


def test_source_graph_is_released_before_the_target_forward():
    """When the target forward runs, the source losses were already
    back-propagated (parameters hold gradients) and the source outputs
    the terms see are cut from the graph."""
    cfg = fada_cfg()
    model = MODELS.build(cfg)
    model.train()
    wrapper = build_optim_wrapper(model, fada_optim_cfg())
    seen = {}
    original = model.forward_domain

    def spy(inputs, data_samples=None):
        if 'source' in seen:  # this is the target forward
            seen['grad_before_target'] = any(
                p.grad is not None and p.grad.abs().sum() > 0
                for p in model.backbone.parameters())
        seen.setdefault('source', True)
        return original(inputs, data_samples)

    term = model.uda_terms[0]
    original_loss = term.loss

    def loss_spy(source, target):
        seen['source_detached'] = not any(
            f.requires_grad for f in source.feats)
        return original_loss(source, target)

    model.forward_domain = spy
    term.loss = loss_spy
    model.train_step(make_batch()[0], wrapper)
    assert seen == dict(source=True, grad_before_target=True,
                        source_detached=True)
    assert active_optim_wrapper() is None  # only inside optim_context


def test_no_early_backward_outside_a_train_step():
    """A loss computed outside optim_context (evaluation, tests) keeps
    its graph and leaves the gradients alone."""
    model = MODELS.build(fada_cfg())
    model.train()
    data = model.data_preprocessor(make_batch()[0], training=True)
    losses = model(**data, mode='loss')
    assert losses['src.decode.loss_ce'].requires_grad
    assert all(p.grad is None for p in model.parameters())
