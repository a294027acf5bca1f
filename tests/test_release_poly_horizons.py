"""Every method config decays its lr as the release does: lr0 (1 - i /
H)^0.9 with the release's horizon H (METHODS.md: source stage 200k,
MaxSquare adaptation iter_max = 29,760, FADA 62.5k, CAG 90k and its
AdaptSegNet-style baseline 250k, depth 90k; MaxSquare + RCS + FD, which
has no release, 40k). MMEngine's PolyLR with end=E decays over E - 1
iterations, so every config sets E = H + 1.
The CAG release steps its scheduler before each optimiser step
(METHODS.md 6.4): its iteration k (from 0) uses lr0 (1 - (k + 1) / H)^0.9,
the first already lr0 (1 - 1 / 90000)^0.9; every other release uses
lr0 (1 - k / H)^0.9, the first lr0."""
import functools
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import PolyLR
from mmseg.registry import PARAM_SCHEDULERS

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..'))
CONFIGS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
    if '/_base_/' not in p and '/demo/' not in p)
HORIZONS = dict(source_only=200000, maxsquare=29760, fada=62500, cag=90000,
                depth=90000, dacs=250000,
                # no release: MaxSquare + RCS + FD decays over its own 40k
                # iterations (DAFormer's training length) with MaxSquare's
                # power 0.9 (not DAFormer's schedule)
                rcs_fd=40000)
POLY_TYPES = ('PolyLR', 'PrestepPolyLR')


@functools.lru_cache(maxsize=None)
def daformer_framework(config):
    """Configs on DAFormer's schedule (METHODS.md sec. 7.5), i.e. its
    AdamW: the DAFormer-framework DACS and every DAFormer-based config."""
    cfg = Config.fromfile(osp.join(REPO, config))
    return cfg.optim_wrapper.get('optimizer', {}).get('type') == 'AdamW'


def released_horizon(config):
    if osp.basename(config) == 'gta2cs_output_adversarial_deeplabv2.py':
        return 250000  # AdaptSegNet's num_steps
    if daformer_framework(config):
        return 40000
    return HORIZONS[config.split('/')[1]]


def steps_first(config):
    """Whether the release steps its scheduler before the optimiser: the
    CAG release, not the AdaptSegNet-style baseline (AdaptSegNet sets
    lr0 (1 - i / H)^0.9 before its step i)."""
    return config.split('/')[1] == 'cag' and osp.basename(config) != (
        'gta2cs_output_adversarial_deeplabv2.py')


def released_lr(config, lr0, k):
    shift = 1 if steps_first(config) else 0
    power = 1.0 if daformer_framework(config) else 0.9
    return lr0 * (1 - (k + shift) / released_horizon(config))**power


@pytest.mark.parametrize('config', CONFIGS)
def test_poly_horizon_is_the_releases(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    (poly, ) = [s for s in cfg.param_scheduler if s.type in POLY_TYPES]
    assert poly.end - 1 == released_horizon(config), poly
    power = 1.0 if daformer_framework(config) else 0.9
    assert (poly.begin, poly.power, poly.eta_min, poly.by_epoch) == (
        0, power, 0.0, False), poly
    assert cfg.train_cfg.max_iters <= released_horizon(config)


@pytest.mark.parametrize('config', CONFIGS)
def test_first_iterations_use_the_releases_lr(config):
    """The configured scheduler, built from its config entry as the runner
    builds it, at iterations 0, 1 and 2; the two orders differ by ~1e-5
    relative there, far above the tolerance (late iterations: MaxSquare's
    schedule test for PolyLR, tests/test_engine/test_prestep_poly_lr.py for
    CAG's)."""
    cfg = Config.fromfile(osp.join(REPO, config))
    (poly, ) = [dict(s) for s in cfg.param_scheduler
                if s.type in POLY_TYPES]
    lr0 = 0.01
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=lr0)
    scheduler = PARAM_SCHEDULERS.build(dict(poly, optimizer=optimizer))
    for k in range(3):
        assert optimizer.param_groups[0]['lr'] == pytest.approx(
            released_lr(config, lr0, k), rel=1e-12, abs=0), (config, k)
        scheduler.step()


def test_end_is_horizon_plus_one_in_mmengine():
    """The convention the configs rely on, stepped on a short horizon."""
    horizon, lr0 = 50, 0.1
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=lr0)
    scheduler = PolyLR(optimizer, eta_min=0.0, power=0.9, begin=0,
                       end=horizon + 1, by_epoch=False)
    for i in range(horizon):
        assert optimizer.param_groups[0]['lr'] == pytest.approx(
            lr0 * (1 - i / horizon)**0.9, rel=1e-9, abs=1e-15), i
        scheduler.step()
    # end=horizon would already be 0 at the last released iteration
    optimizer = torch.optim.SGD([param], lr=lr0)
    scheduler = PolyLR(optimizer, eta_min=0.0, power=0.9, begin=0,
                       end=horizon, by_epoch=False)
    for _ in range(horizon - 1):
        scheduler.step()
    assert optimizer.param_groups[0]['lr'] == pytest.approx(0, abs=1e-15)


@pytest.mark.parametrize('config', [
    'configs/dacs/gta2cs_deeplabv2_daformer.py', 'configs/daformer/gta2cs.py'
])
def test_daformer_schedule_gives_the_released_learning_rates(config):
    """lr_i = 6e-5 (1 - i/40000) (1 - (1 - i/1500)(1 - 1e-6)) in warm-up,
    the head at 10x (METHODS.md sec. 7.5 and its checks: iterations 0, 49,
    99, 3999)."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import PARAM_SCHEDULERS
    cfg = Config.fromfile(osp.join(REPO, config))
    model = torch.nn.Module()
    model.backbone = torch.nn.Linear(1, 1)
    model.decode_head = torch.nn.Linear(1, 1)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    schedulers = [
        PARAM_SCHEDULERS.build(dict(s, optimizer=wrapper))
        for s in cfg.param_scheduler
    ]
    checks = {0: 6.0e-11, 49: 1.958e-6, 99: 3.950e-6, 3999: 5.400e-5}
    for i in range(4000):
        lrs = {round(g['lr'] / 6e-5, 6) for g in wrapper.param_groups}
        want = 6e-5 * (1 - i / 40000) * (
            1 - (1 - i / 1500) * (1 - 1e-6) if i < 1500 else 1)
        groups = sorted(g['lr'] for g in wrapper.param_groups)
        assert groups[0] == pytest.approx(want, rel=1e-6), i
        assert groups[-1] == pytest.approx(10 * want, rel=1e-6), i
        if i in checks:  # to the digits METHODS.md gives
            assert float(f'{groups[0]:.3e}') == checks[i], (i, groups[0])
        assert len(lrs) == 2
        for scheduler in schedulers:
            scheduler.step()


def test_daformer_parameter_groups_on_mit():
    """METHODS.md sec. 7.5 groups on MiT + DAFormerHead, by module type (not
    by the name rule under test): every decoder parameter (BN and biases
    included) at 10 x lr with decay 0.01; every encoder LayerNorm parameter
    (patch-embedding, block, SR and stage-end norms) at 1 x lr without
    decay; every other encoder parameter (weights, biases, depth-wise
    convs) at 1 x lr with decay 0.01."""
    from mmengine.optim import build_optim_wrapper
    from mmseg.registry import MODELS
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/_base_/models/daformer_mitb5.py'))
    cfg.model.backbone.update(embed_dims=8, num_layers=[1, 2, 1, 1])
    cfg.model.decode_head.update(in_channels=[8, 16, 40, 64], channels=16,
                                 embed_dims=16)
    model = MODELS.build(cfg.model)
    schedule = Config.fromfile(
        osp.join(REPO, 'configs/_base_/schedules/daformer.py'))
    wrapper = build_optim_wrapper(model, schedule.optim_wrapper)
    group_of = {id(p): g for g in wrapper.param_groups for p in g['params']}
    layer_norm = {
        id(p)
        for m in model.backbone.modules() if isinstance(m, torch.nn.LayerNorm)
        for p in m.parameters()
    }
    assert len(layer_norm) == 2 * (4 + 4 + 2 * 5 + 4)  # patch, SR, blocks
    counts = dict(head=0, layer_norm=0, other=0)
    for name, param in model.named_parameters():
        group = group_of[id(param)]
        if name.startswith('decode_head.'):
            kind, want = 'head', (6e-4, 0.01)
        elif id(param) in layer_norm:
            kind, want = 'layer_norm', (6e-5, 0.0)
        else:
            kind, want = 'other', (6e-5, 0.01)
        counts[kind] += 1
        assert (group['lr'], group['weight_decay']) == pytest.approx(
            want, rel=1e-12), name
    assert min(counts.values()) > 0, counts
    assert wrapper.optimizer.defaults['betas'] == (0.9, 0.999)
    assert wrapper.optimizer.defaults['eps'] == 1e-8
    assert type(wrapper.optimizer).__name__ == 'AdamW'
