"""FitAndPad: Mapillary fitted into the input size with the aspect kept,
padded bottom/right (labels with ignore), evaluated at that size
(METHODS.md 6.2)."""
import numpy as np
import pytest

from mmseg_uda.datasets.transforms.fit_and_pad import FitAndPad, fitted_size


def sample(h, w):
    img = np.full((h, w, 3), 200, np.uint8)
    label = np.arange(h * w).reshape(h, w).astype(np.uint8) % 7
    return dict(img=img, gt_seg_map=label, seg_fields=['gt_seg_map'],
                img_shape=(h, w), ori_shape=(h, w))


def test_landscape_and_portrait_fit_the_box():
    # box (W, H) = (40, 19): a 4:3 image is bounded by the height
    assert fitted_size((30, 40), (40, 19)) == (19, 25)
    # portrait: bounded by the height too (Resize(keep_ratio=True) would
    # bound the long side by 40 and give 40 x 30, taller than the box)
    assert fitted_size((40, 30), (40, 19)) == (19, 14)
    assert fitted_size((10, 80), (40, 19)) == (5, 40)


def test_pads_bottom_right_with_ignore_and_scores_at_the_input_size():
    out = FitAndPad(scale=(40, 19))(sample(30, 40))
    assert out['img'].shape == (19, 40, 3)
    assert out['gt_seg_map'].shape == (19, 40)
    assert out['fitted_shape'] == (19, 25) and out['source_shape'] == (30, 40)
    assert (out['img'][:, 25:] == 0).all() and (out['img'][:, :25] > 0).all()
    assert (out['gt_seg_map'][:, 25:] == 255).all()
    assert (out['gt_seg_map'][:, :25] < 7).all()
    assert out['ori_shape'] == out['img_shape'] == (19, 40)
    kept = FitAndPad(scale=(40, 19), eval_at_input_size=False)(sample(30, 40))
    assert kept['ori_shape'] == (30, 40)
    with pytest.raises(ValueError, match='scale'):
        FitAndPad(scale=(0, 10))
