"""Every method config decays its lr as the release does: lr0 (1 - i /
H)^0.9 with the release's horizon H (METHODS.md: source stage 200k,
MaxSquare adaptation iter_max = 29,760, FADA 62.5k, CAG 90k and its
AdaptSegNet-style baseline 250k, depth 90k). MMEngine's PolyLR with
end=E decays over E - 1 iterations, so every config sets E = H + 1."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import PolyLR

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..'))
CONFIGS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
    if '/_base_/' not in p and '/demo/' not in p)
HORIZONS = dict(source_only=200000, maxsquare=29760, fada=62500, cag=90000,
                depth=90000,
                # no release: MaxSquare + RCS + FD decays over its own 40k
                # iterations (DAFormer's training length)
                rcs_fd=40000)


def released_horizon(config):
    if osp.basename(config) == 'gta2cs_output_adversarial_deeplabv2.py':
        return 250000  # AdaptSegNet's num_steps
    return HORIZONS[config.split('/')[1]]


@pytest.mark.parametrize('config', CONFIGS)
def test_poly_horizon_is_the_releases(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    (poly, ) = [s for s in cfg.param_scheduler if s.type == 'PolyLR']
    assert poly.end - 1 == released_horizon(config), poly
    assert (poly.begin, poly.power, poly.eta_min, poly.by_epoch) == (
        0, 0.9, 0.0, False), poly
    assert cfg.train_cfg.max_iters <= released_horizon(config)


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
