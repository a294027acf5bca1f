"""FineGrainedDiscriminator / FeatureDiscriminator: layer layout, output
shapes at the image size, and a forward checked against plain PyTorch."""
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

import mmseg_uda  # noqa: F401
from mmseg_uda.models.discriminators import (FeatureDiscriminator,
                                             FineGrainedDiscriminator)


def convs(module):
    return [m for m in module.modules() if isinstance(m, torch.nn.Conv2d)]


def test_fine_grained_layout_and_shapes():
    disc = MODELS.build(
        dict(
            type='FineGrainedDiscriminator', num_classes=19, in_channels=2048))
    assert isinstance(disc, FineGrainedDiscriminator)
    layout = [(c.in_channels, c.out_channels, c.kernel_size, c.padding, c.bias
               is not None) for c in convs(disc)]
    assert layout == [(2048, 256, (3, 3), (1, 1), True),
                      (256, 128, (3, 3), (1, 1), True),
                      (128, 19, (3, 3), (1, 1), True),
                      (128, 19, (3, 3), (1, 1), True)]
    slopes = [
        m.negative_slope for m in disc.modules()
        if isinstance(m, torch.nn.LeakyReLU)
    ]
    assert slopes == [0.2, 0.2]
    assert disc.out_channels == 38
    # A layer4 map at stride 8 of a 1024x512 image -> scores at image size.
    out = disc(torch.randn(2, 2048, 4, 8), (32, 64))
    assert out.shape == (2, 38, 32, 64)


def test_feature_discriminator_is_the_same_trunk_with_one_output():
    disc = MODELS.build(dict(type='FeatureDiscriminator', in_channels=16))
    assert isinstance(disc, FeatureDiscriminator)
    assert [c.out_channels for c in convs(disc)] == [256, 128, 1]
    assert disc(torch.randn(1, 16, 3, 5), (24, 40)).shape == (1, 1, 24, 40)


def test_forward_equals_plain_pytorch():
    torch.manual_seed(0)
    disc = FineGrainedDiscriminator(
        num_classes=3, in_channels=8, channels=(6, 4))
    x = torch.randn(2, 8, 5, 7)
    c1, c2, head_s, head_t = convs(disc)
    h = F.leaky_relu(F.conv2d(x, c1.weight, c1.bias, padding=1), 0.2)
    h = F.leaky_relu(F.conv2d(h, c2.weight, c2.bias, padding=1), 0.2)
    # first C channels: source x class, last C: target x class
    ref = torch.cat([
        F.conv2d(h, head_s.weight, head_s.bias, padding=1),
        F.conv2d(h, head_t.weight, head_t.bias, padding=1)
    ], 1)
    ref = F.interpolate(
        ref, size=(40, 56), mode='bilinear', align_corners=True)
    torch.testing.assert_close(disc(x, (40, 56)), ref)


def test_bad_input_is_named():
    disc = FineGrainedDiscriminator(num_classes=3, in_channels=8)
    with pytest.raises(ValueError, match=r'\(B, 8, h, w\).*in_channels'):
        disc(torch.randn(1, 16, 4, 4), (8, 8))
    with pytest.raises(ValueError, match='num_classes'):
        FineGrainedDiscriminator(num_classes=0)
    with pytest.raises(ValueError, match='channels'):
        FeatureDiscriminator(channels=(256, ))
