"""Released details of the depth method (METHODS.md 6.4): the
discriminator's loss is BCE(D(m_s), 0) + BCE(D(m_t), 1), unhalved; the
Mapillary tasks' source CE is unweighted (the Cityscapes tasks' weighted);
the depth and density heads' weights are drawn from N(0, 0.01), their biases
keep PyTorch's default, and neither init_weights nor loading an ImageNet
backbone changes them. References are plain PyTorch written here."""
import glob
import math
import os.path as osp

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.runner.checkpoint import load_checkpoint
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_uda  # noqa: F401
from mmseg_uda.models.uda.domain_outputs import DomainOutputs

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
ADAPTATION_CONFIGS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'configs', 'depth', '*.py'))
    if 'self_training' not in p)
MAPILLARY = [c for c in ADAPTATION_CONFIGS if 'mapillary' in c]
CITYSCAPES = [c for c in ADAPTATION_CONFIGS if 'mapillary' not in c]
# METHODS.md 6.3, hand-copied: the released source CE class weights.
RELEASED_WEIGHTS = {
    16: [0.327, 0.313, 0.206, 22.427, 22.558, 5.811, 155.643, 59.528, 0.586,
         0.882, 1.423, 12.871, 1.488, 3.955, 29.164, 27.563],
    7: [0.349, 0.462, 11.576, 1.325, 1.993, 3.216, 3.192],
}


def test_configs_are_split_as_expected():
    assert len(MAPILLARY) == 2 and len(CITYSCAPES) == 3


# --- item: the discriminator's loss weight ---


class ZeroDensity(nn.Module):
    """Stands in for the GMM targets (not under test here)."""

    def forward(self, classes, *args, **kwargs):
        return torch.zeros(classes.shape[0], 1, *classes.shape[-2:])


def bce(logits, label):
    return F.binary_cross_entropy_with_logits(
        logits, torch.full_like(logits, float(label)))


def d_input(term, feat, logits, size):
    """H(p) * up(den) at the image size (METHODS.md 6.3), by hand."""
    convs = [m for m in term.density_head.modules()
             if isinstance(m, nn.Conv2d)]
    x = F.relu(F.conv2d(feat, convs[0].weight, convs[0].bias))
    x = F.relu(F.conv2d(x, convs[1].weight, convs[1].bias, padding=1))
    den = F.conv2d(x, convs[2].weight, convs[2].bias).mean(1, keepdim=True)
    p = F.softmax(
        F.interpolate(logits, size, mode='bilinear', align_corners=True), 1)
    entropy = -p * torch.log2(p + 1e-30) / math.log2(p.shape[1])
    return entropy * F.interpolate(
        den, size, mode='bilinear', align_corners=True)


def outputs(feat, logits, size, depth=None):
    sample = SegDataSample()
    if depth is not None:  # a labelled source sample
        sample.gt_depth_map = PixelData(data=depth)
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, logits.shape[1], (1, *size)))
    return DomainOutputs(
        inputs=torch.zeros(1, 3, *size), feats=(None, None, None, feat),
        logits=dict(main=logits), align_corners=True, data_samples=[sample])


def test_discriminator_loss_is_the_unhalved_sum_of_both_bces():
    torch.manual_seed(0)
    c, size = 4, (32, 48)
    head = dict(type='ChannelMeanRegressionHead', in_channels=8,
                channels=(8, 8, 4))
    # the defaults of the term: no disc_weight given
    term = MODELS.build(dict(
        type='DepthDistribution', num_classes=c, in_channels=8,
        depth_head=head, density_head=head,
        discriminator=dict(type='FullyConvDiscriminator', in_channels=c,
                           channels=(4, 4, 4, 4))))
    term.gmm = ZeroDensity()
    feat_s, feat_t = torch.randn(1, 8, 4, 6), torch.randn(1, 8, 4, 6)
    logit_s, logit_t = torch.randn(1, c, 4, 6), torch.randn(1, c, 4, 6)
    source = outputs(feat_s, logit_s, size, torch.rand(1, *size) * 50 + 1)
    term.source_loss(source)
    losses = term.loss(source, outputs(feat_t, logit_t, size))
    with torch.no_grad():
        disc = term.discriminator
        expected = (bce(disc(d_input(term, feat_s, logit_s, size)), 0) +
                    bce(disc(d_input(term, feat_t, logit_t, size)), 1))
    torch.testing.assert_close(losses['loss_disc'], expected)
    assert expected > 0.5  # two BCEs of an untrained D, ~ln 2 each


@pytest.mark.parametrize('config', ADAPTATION_CONFIGS)
def test_every_depth_config_sums_the_two_bces(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    term = cfg.model.uda_terms[0]
    term.update(in_channels=8, gmm_file=None,
                depth_head=dict(type='ChannelMeanRegressionHead',
                                in_channels=8, channels=(8, 8, 4)),
                density_head=dict(type='ChannelMeanRegressionHead',
                                  in_channels=8, channels=(8, 8, 4)))
    assert MODELS.build(term).disc_weight == 1.0


# --- item: the source CE of the Mapillary and Cityscapes tasks ---


def head_loss(cfg, logits, label):
    head = MODELS.build(cfg.model.decode_head)
    sample = SegDataSample(gt_sem_seg=PixelData(data=label[None]))
    return head.loss_by_feat(logits, [sample])['loss_ce']


def random_batch(c, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(1, c, 12, 16, generator=g) * 3
    label = torch.randint(0, c, (12, 16), generator=g)
    label[:3] = 255
    return logits, label


@pytest.mark.parametrize('config', MAPILLARY)
def test_mapillary_source_ce_is_unweighted(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    logits, label = random_batch(7)
    loss = head_loss(cfg, logits, label)
    # mean over the labelled pixels, every class weight 1
    torch.testing.assert_close(
        loss, F.cross_entropy(logits, label[None], ignore_index=255))
    weighted = F.cross_entropy(
        logits, label[None], weight=torch.tensor(RELEASED_WEIGHTS[7]),
        ignore_index=255)
    assert abs(loss - weighted) > 1e-2


@pytest.mark.parametrize('config', CITYSCAPES)
def test_cityscapes_source_ce_keeps_the_released_weights(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    c = cfg.num_classes
    logits, label = random_batch(c, seed=1)
    # PyTorch's weighted mean: sum w_y * ce / sum w_y over labelled pixels
    torch.testing.assert_close(
        head_loss(cfg, logits, label),
        F.cross_entropy(logits, label[None],
                        weight=torch.tensor(RELEASED_WEIGHTS[c]),
                        ignore_index=255))


# --- item: the depth and density heads' initialisation ---


def assert_release_init(head, in_channels):
    """Weights ~ N(0, 0.01); biases PyTorch's U(-1/sqrt(fan_in), ...)."""
    convs = [m for m in head.modules() if isinstance(m, nn.Conv2d)]
    assert [c.in_channels for c in convs] == [in_channels, 512, 512]
    for conv in convs:
        w = conv.weight.detach().double().flatten()
        fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
        # PyTorch's default (kaiming_uniform, a=sqrt(5)) has std
        # 1/sqrt(3 fan_in): 0.036 / 0.0085 / 0.0255 here, far outside 3%
        assert abs(w.std().item() - 0.01) < 3e-4, (fan_in, w.std())
        assert abs(w.mean().item()) < 2e-4
        # normal, not uniform: kurtosis 3 (a uniform's is 1.8)
        kurtosis = (((w - w.mean()) / w.std())**4).mean().item()
        assert abs(kurtosis - 3) < 0.15, kurtosis
        bound = 1 / math.sqrt(fan_in)
        b = conv.bias.detach()
        assert b.abs().max() <= bound
        assert b.abs().max() > bound / 2  # not zeroed, as NormalInit would


def test_heads_are_normal_001_with_default_biases():
    torch.manual_seed(0)
    head = MODELS.build(dict(type='ChannelMeanRegressionHead'))
    assert_release_init(head, 2048)
    before = [p.clone() for p in head.parameters()]
    head.init_weights()
    for p, q in zip(head.parameters(), before):
        assert torch.equal(p, q)


def test_pytorch_default_init_fails_the_statistics():
    torch.manual_seed(0)
    head = MODELS.build(
        dict(type='ChannelMeanRegressionHead', in_channels=256,
             init_std=None))
    with pytest.raises(AssertionError):
        assert_release_init(head, 256)


def tiny_depth_model():
    """configs/depth/synthia2cs.py with a tiny backbone (layer4: 256) and
    the config's own heads (default channels 512, 512, 128)."""
    cfg = Config.fromfile(osp.join(REPO, 'configs/depth/synthia2cs.py'))
    cfg.model.backbone.update(depth=50, stage_blocks=(1, 1, 1, 1),
                              base_channels=8, stem_channels=8)
    cfg.model.decode_head.in_channels = 256
    cfg.model.uda_terms[0].update(in_channels=256, gmm_file=None)
    return MODELS.build(cfg.model)


def test_init_survives_init_weights_and_loading_a_backbone(tmp_path):
    torch.manual_seed(0)
    model = tiny_depth_model()
    model.init_weights()  # as the runner does before load_from
    term = model.uda_terms[0]
    for head in (term.depth_head, term.density_head):
        assert_release_init(head, 256)
    heads = {k: v.clone() for k, v in model.state_dict().items()
             if '_head.' in k and k.startswith('uda_terms')}
    assert heads
    # an ImageNet backbone checkpoint (the converter's keys, no heads)
    backbone = {
        f'backbone.{k}': v + 1 if v.is_floating_point() else v
        for k, v in model.backbone.state_dict().items()
    }
    path = str(tmp_path / 'imagenet.pth')
    torch.save(dict(state_dict=backbone, meta=dict()), path)
    load_checkpoint(model, path, map_location='cpu', strict=False)
    state = model.state_dict()
    for key, value in heads.items():
        assert torch.equal(state[key], value), key
    for key, value in backbone.items():
        assert torch.equal(state[key], value), key
