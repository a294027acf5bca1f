"""DeepLabV3PlusHead: shapes, the exposed post-dropout feature, and the
segmentor keeping it in the training outputs."""
import pytest
import torch

from mmseg_uda.models.decode_heads import DeepLabV3PlusHead


def make_head(**kwargs):
    return DeepLabV3PlusHead(in_channels=(8, 32), channels=16,
                             skip_channels=4, num_classes=3,
                             norm_cfg=dict(type='BN'), **kwargs)


def test_shapes_and_feature():
    head = make_head()
    inputs = [torch.randn(2, 8, 20, 24), None, None,
              torch.randn(2, 32, 5, 6)]
    head.eval()
    feature = head._forward_feature(inputs)
    assert feature.shape == (2, 16, 20, 24)
    logits = head(inputs)
    assert logits.shape == (2, 3, 20, 24)
    torch.testing.assert_close(logits, head.cls_seg(feature))
    assert head.exposes_feature and head.dropout is None
    # both decoder dropouts act in training: the feature is post-dropout
    head.train()
    torch.manual_seed(0)
    a = head._forward_feature(inputs)
    torch.manual_seed(1)
    b = head._forward_feature(inputs)
    assert not torch.allclose(a, b)
    assert (a == 0).float().mean() > 0.1


def test_bad_arguments():
    with pytest.raises(TypeError, match='dropout_ratio'):
        make_head(dropout_ratio=0.1)
    with pytest.raises(ValueError, match='two values'):
        DeepLabV3PlusHead(in_channels=(8, ), num_classes=3)
