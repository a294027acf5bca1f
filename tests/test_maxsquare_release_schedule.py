"""MaxSquare configs follow the released schedule (issue 10, items 1-2):
the adaptation's poly horizon is its run length, as the release's
iter_max = iterations per epoch x epochs; every MaxSquare config uses the
released optimiser (one update per listing)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import PolyLR

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..'))
ADAPTATION = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'configs/maxsquare/*.py')))
SOURCE = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'configs/source_only/*.py')))


def released_iter_max(source_name):
    # The release counts the Cityscapes loader ((2975 + bs) // bs, bs = 1)
    # for every task: rounds x epochs per round for the synthetic sources
    # (5 x 2), epoch_num = 10 for cross-city.
    per_epoch = (2975 + 1) // 1
    epochs = 10 if source_name.startswith('cs2nthu') else 5 * 2
    return per_epoch * epochs


@pytest.mark.parametrize('config', ADAPTATION)
def test_adaptation_horizon_is_the_run_length(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    expected = released_iter_max(osp.basename(config))
    assert expected == 29760
    assert cfg.train_cfg.max_iters == expected
    # the configured scheduler gives the release's lr0 (1 - i / iter_max)^0.9
    lr0 = cfg.optim_wrapper.optimizer.lr
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=lr0)
    (poly, ) = [dict(s) for s in cfg.param_scheduler if s.type == 'PolyLR']
    poly.pop('type')
    scheduler = PolyLR(optimizer, **poly)
    checks = {0, 1, 14880, expected - 1}
    for i in range(expected):
        if i in checks:
            released = lr0 * (1 - i / expected)**0.9
            assert optimizer.param_groups[0]['lr'] == pytest.approx(
                released, rel=1e-9, abs=1e-15), i
        scheduler.step()
    # 0 after the run (its last iteration, checked above, still has > 0)
    assert optimizer.param_groups[0]['lr'] == pytest.approx(0, abs=1e-15)
    header = open(osp.join(REPO, config)).read().split('_base_')[0]
    assert '200k' not in header and 'iter_max)' not in header


@pytest.mark.parametrize('config', SOURCE)
def test_source_stage_keeps_its_200k_horizon(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    (poly, ) = [s for s in cfg.param_scheduler if s.type == 'PolyLR']
    assert poly.end == 200000 + 1 and cfg.train_cfg.max_iters == 80000


@pytest.mark.parametrize('config', ADAPTATION + SOURCE)
def test_maxsquare_uses_the_released_optimiser(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    assert cfg.optim_wrapper.constructor == (
        'NestedListingOptimWrapperConstructor')
    assert cfg.optim_wrapper.optimizer.type == 'RepeatedListingSGD'
    assert cfg.optim_wrapper.nested_listing_modules == ['backbone']
    # the plain optimiser stays a named option
    assert cfg.plain_sgd_optim_wrapper.optimizer.type == 'SGD'
