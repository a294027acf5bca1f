"""ReleaseMixVisionTransformer (METHODS.md sec. 7.2, 7.9 #12): LayerNorm eps
1e-5 in the patch embeddings and the spatial-reduction norms, 1e-6 in the
blocks and stage ends, and it changes the output; stochastic depth linear
to 0.1; the MiT-B5 of the DAFormer configs; a SegFormer-layout checkpoint
refused with the conversion command. (Identical outputs with the release's
network: tests/test_tools/test_daformer_release_converter.py.)"""
import os.path as osp
import re

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmseg.registry import MODELS

import mmseg_uda  # noqa: F401
from mmseg_uda.utils.weight_matching import IncompatibleCheckpointError

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
TINY = dict(embed_dims=8, num_layers=[1, 2, 1, 1], num_heads=[1, 2, 4, 8])


def build(type_='ReleaseMixVisionTransformer', **kwargs):
    torch.manual_seed(0)
    backbone = MODELS.build(dict(type=type_, **dict(TINY, **kwargs)))
    backbone.init_weights()
    return backbone.eval()


def test_eps_of_every_layer_norm():
    backbone = build()
    eps = {name: m.eps for name, m in backbone.named_modules()
           if isinstance(m, nn.LayerNorm)}
    patch = [n for n in eps if re.fullmatch(r'layers\.\d\.0\.norm', n)]
    sr = [n for n in eps if re.fullmatch(r'layers\.\d\.1\.\d\.attn\.norm', n)]
    assert len(patch) == 4
    # stages 1-3 (ratios 8, 4, 2) have an SR norm per block: 1 + 2 + 1
    assert len(sr) == 4 and not any(n.startswith('layers.3.') for n in sr)
    for name, value in eps.items():
        assert value == (1e-5 if name in patch + sr else 1e-6), name
    # blocks (norm1, norm2) and stage ends
    assert len(eps) == 4 + 4 + 2 * 5 + 4


def test_the_eps_acts_in_the_forward():
    """On images of tiny variance the patch-embedding norm's eps matters:
    MMSeg's MiT with the same weights (eps 1e-6 everywhere) differs, and
    equals ours once given the release's eps."""
    ours = build()
    plain = build('MixVisionTransformer')
    plain.load_state_dict(ours.state_dict())
    x = 1e-3 * torch.randn(1, 3, 64, 64, generator=torch.Generator()
                           .manual_seed(0))
    with torch.no_grad():
        out, out_plain = ours(x), plain(x)
        assert not torch.allclose(out[0], out_plain[0], atol=1e-3)
        for name, module in plain.named_modules():
            if re.fullmatch(r'layers\.\d\.(0|1\.\d\.attn)\.norm', name):
                module.eps = 1e-5
        for a, b in zip(ours(x), plain(x)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_stochastic_depth_is_linear_to_the_rate():
    backbone = build(drop_path_rate=0.1)
    rates = [block.attn.dropout_layer.drop_prob
             for stage in backbone.layers for block in stage[1]]
    assert rates == pytest.approx(torch.linspace(0, 0.1, 5).tolist())
    assert [block.ffn.dropout_layer.drop_prob for stage in backbone.layers
            for block in stage[1]] == rates


def test_the_daformer_configs_mit_b5():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/_base_/models/daformer_mitb5.py'))
    backbone = MODELS.build(cfg.model.backbone)
    assert type(backbone).__name__ == 'ReleaseMixVisionTransformer'
    assert [len(stage[1]) for stage in backbone.layers] == [3, 6, 40, 3]
    assert [stage[2].normalized_shape[0]
            for stage in backbone.layers] == [64, 128, 320, 512]
    assert [stage[1][0].attn.attn.num_heads
            for stage in backbone.layers] == [1, 2, 5, 8]
    assert [stage[1][0].attn.sr_ratio
            for stage in backbone.layers] == [8, 4, 2, 1]
    assert [stage[0].projection.kernel_size[0]
            for stage in backbone.layers] == [7, 3, 3, 3]
    last = backbone.layers[3][1][2]
    assert last.ffn.dropout_layer.drop_prob == pytest.approx(0.1)
    assert last.ffn.feedforward_channels == 4 * 512
    assert last.attn.attn.in_proj_bias is not None  # qkv bias
    assert (backbone.patch_embed_norm_eps, backbone.sr_norm_eps) == (1e-5,
                                                                     1e-5)


def test_a_segformer_layout_checkpoint_is_refused_with_the_command(tmp_path):
    path = str(tmp_path / 'mit_b0.pth')
    torch.save({'patch_embed1.proj.weight': torch.zeros(8, 3, 7, 7),
                'block1.0.attn.q.weight': torch.zeros(8, 8),
                'head.weight': torch.zeros(1000, 64)}, path)
    backbone = MODELS.build(dict(
        type='ReleaseMixVisionTransformer',
        init_cfg=dict(type='Pretrained', checkpoint=path), **TINY))
    with pytest.raises(IncompatibleCheckpointError) as err:
        backbone.init_weights()
    message = str(err.value)
    assert 'mit_b0.pth' in message and 'patch_embed1.proj.weight' in message
    assert 'mit2mmseg.py' in message
