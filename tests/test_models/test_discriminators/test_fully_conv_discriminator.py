"""FullyConvDiscriminator: the DC-GAN layout, shapes and a forward checked
against plain PyTorch."""
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

import mmseg_uda  # noqa: F401
from mmseg_uda.models.discriminators import FullyConvDiscriminator


def test_layout_and_shape():
    disc = MODELS.build(dict(type='FullyConvDiscriminator', in_channels=19))
    convs = [m for m in disc.modules() if isinstance(m, torch.nn.Conv2d)]
    layout = [(c.in_channels, c.out_channels, c.kernel_size, c.stride,
               c.padding, c.bias is not None) for c in convs]
    assert layout == [(19, 64, (4, 4), (2, 2), (1, 1), True),
                      (64, 128, (4, 4), (2, 2), (1, 1), True),
                      (128, 256, (4, 4), (2, 2), (1, 1), True),
                      (256, 512, (4, 4), (2, 2), (1, 1), True),
                      (512, 1, (4, 4), (2, 2), (1, 1), True)]
    slopes = [m.negative_slope for m in disc.modules()
              if isinstance(m, torch.nn.LeakyReLU)]
    assert slopes == [0.2] * 4
    assert disc(torch.randn(1, 19, 64, 128)).shape == (1, 1, 2, 4)


def test_forward_equals_plain_pytorch():
    torch.manual_seed(0)
    disc = FullyConvDiscriminator(in_channels=3, channels=(4, 5))
    x = torch.randn(2, 3, 16, 24)
    c1, c2, c3 = [m for m in disc.modules() if isinstance(m, torch.nn.Conv2d)]
    h = F.leaky_relu(F.conv2d(x, c1.weight, c1.bias, 2, 1), 0.2)
    h = F.leaky_relu(F.conv2d(h, c2.weight, c2.bias, 2, 1), 0.2)
    ref = F.conv2d(h, c3.weight, c3.bias, 2, 1)
    torch.testing.assert_close(disc(x), ref)


def test_bad_input_is_named():
    disc = FullyConvDiscriminator(in_channels=7)
    with pytest.raises(ValueError, match=r'\(B, 7, H, W\).*in_channels'):
        disc(torch.randn(1, 19, 32, 32))
    with pytest.raises(ValueError, match='in_channels'):
        FullyConvDiscriminator(in_channels=0)
