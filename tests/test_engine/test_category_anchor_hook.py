"""CategoryAnchorHook's checks at stage start: the predecessor of
load_from, the network's keys and shapes, anchor files (written
atomically, read back, wrong sizes named)."""
import os.path as osp
import sys

import pytest
import torch
from mmseg.registry import MODELS

from mmseg_uda.engine.hooks.category_anchor_hook import (check_predecessor,
                                                         load_anchor_file,
                                                         save_anchor_file)

sys.path.insert(
    0, osp.join(osp.dirname(__file__), '..', 'test_models', 'test_uda'))
from test_category_anchor_guided import tiny_cag_cfg  # noqa: E402


def save(path, state):
    torch.save(dict(state_dict=state, meta=dict()), path)
    return str(path)


@pytest.fixture(scope='module')
def models():
    stage1 = MODELS.build(tiny_cag_cfg(stage=1))
    stage2 = MODELS.build(tiny_cag_cfg(stage=2))
    return stage1, stage2


def network_state(model):
    return {
        k: v
        for k, v in model.state_dict().items()
        if k.startswith(('backbone.', 'decode_head.'))
    }


def test_predecessors(models, tmp_path):
    stage1, stage2 = models
    net = network_state(stage1)
    warmup = save(tmp_path / 'warm.pth', dict(
        net, **{'uda_terms.0.discriminator.layers.0.weight': torch.zeros(1)}))
    source_only = save(tmp_path / 'src.pth', net)
    cag1 = save(tmp_path / 'cag1.pth', stage1.state_dict())
    check_predecessor(warmup, stage1, stage1.uda_terms[0])
    check_predecessor(cag1, stage2, stage2.uda_terms[0])
    with pytest.raises(
            ValueError, match=r'cag1.pth: CAG stage 1 must start from the '
            r'warm-up, but this checkpoint is CAG stage 1'):
        check_predecessor(cag1, stage1, stage1.uda_terms[0])
    with pytest.raises(ValueError, match=r'must start from CAG stage 1, but '
                       r'this checkpoint is an output-adversarial'):
        check_predecessor(warmup, stage2, stage2.uda_terms[0])
    with pytest.raises(ValueError, match='without UDA stage'):
        check_predecessor(source_only, stage1, stage1.uda_terms[0])
    with pytest.raises(ValueError, match='set load_from'):
        check_predecessor(None, stage1, stage1.uda_terms[0])
    key = 'decode_head.conv_seg.weight'
    bad = dict(net, **{key: torch.zeros(7, 16, 1, 1)})
    bad['uda_terms.0.discriminator.x'] = torch.zeros(1)
    with pytest.raises(ValueError, match=rf'{key} is \(7, 16, 1, 1\)'):
        check_predecessor(save(tmp_path / 'b.pth', bad), stage1,
                          stage1.uda_terms[0])


def test_anchor_file_round_trip_and_bad_sizes(models, tmp_path):
    stage1, _ = models
    term = stage1.uda_terms[0]
    term.set_anchors(torch.randn(4, 16), torch.tensor([1, 2, 3, 4]))
    path = str(tmp_path / 'anchors.pth')
    save_anchor_file(path, term, 'x.pth')
    anchors, counts = load_anchor_file(path)
    assert torch.equal(anchors, term.anchors)
    assert torch.equal(counts, term.anchor_counts)
    torch.save(dict(anchors=torch.zeros(5, 16), counts=torch.ones(5)), path)
    with pytest.raises(ValueError, match=r'anchors.pth.*\(5, 16\)'):
        term.set_anchors(*load_anchor_file(path), source=path)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        load_anchor_file(str(tmp_path / 'missing.pth'))
    torch.save(dict(x=1), path)
    with pytest.raises(ValueError, match='not a CAG anchor file'):
        load_anchor_file(path)
