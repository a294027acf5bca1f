"""The pseudo-label weight (METHODS.md sec. 7.1 step 6, 7.9 #2-3): q is
the share of confident pixels of the whole batch (one scalar, >= 0.968),
computed before the crop-row band is zeroed; per-image q as the option."""
import pytest
import torch

from mmseg_uda.models.utils.pseudo_label_weight import (pseudo_label_weight,
                                                        quality_weight)


def hand_made():
    """Two 20x4 maps: image 0 has 12 confident pixels (10 in the band
    rows), image 1 has 30; 0.968 itself counts."""
    p = torch.full((2, 20, 4), 0.5)
    p[0, :2, :] = 0.99        # 8 pixels in rows 0-1 (in the top band)
    p[0, 19, :2] = 0.968      # 2 pixels in the last row (bottom band)
    p[0, 10, :2] = 0.97       # 2 pixels in the middle
    p[0, 11, 0] = 0.9679      # just below: not confident
    p[1, 5:12, :] = 0.999     # 28 pixels
    p[1, 15, 1:3] = 1.0       # 2 pixels
    return p


def test_batch_quality_is_one_scalar_over_all_pixels():
    q = quality_weight(hand_made())
    assert q.shape == ()
    assert q.item() == pytest.approx((12 + 30) / (2 * 20 * 4))


def test_per_image_quality_option():
    q = quality_weight(hand_made(), scope='image')
    torch.testing.assert_close(q, torch.tensor([12 / 80, 30 / 80]))


def test_band_rows_are_zeroed_after_q():
    p = hand_made()
    w = pseudo_label_weight(p, ignore_top=3, ignore_bottom=2)
    q = (12 + 30) / 160  # the band's confident pixels still count
    want = torch.full((2, 20, 4), q)
    want[:, :3] = 0
    want[:, -2:] = 0
    torch.testing.assert_close(w, want)
    # plain DACS: no band, the same q everywhere
    torch.testing.assert_close(pseudo_label_weight(p),
                               torch.full((2, 20, 4), q))
    # per image, with the band
    w = pseudo_label_weight(p, scope='image', ignore_top=3, ignore_bottom=2)
    assert w[0, 5, 0].item() == pytest.approx(12 / 80)
    assert w[1, 5, 0].item() == pytest.approx(30 / 80)
    assert (w[:, :3] == 0).all() and (w[:, -2:] == 0).all()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='scope'):
        quality_weight(hand_made(), scope='pixel')
    with pytest.raises(ValueError, match='ignore_top'):
        pseudo_label_weight(hand_made(), ignore_top=-1)
