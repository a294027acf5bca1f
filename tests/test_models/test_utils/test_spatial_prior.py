"""Spatial-prior refinement against hand-made label maps: 8- vs
4-connectivity, holes from the confidence mask, thresholds per class and
the released threshold formula (METHODS.md sec. 5, 6.3)."""
import numpy as np
import pytest

from mmseg_uda.models.utils.spatial_prior import (RELEASED_THRESHOLDS,
                                                  confident_argmax,
                                                  refine_pseudo_label,
                                                  remove_small_components,
                                                  thresholds_from_shares)

X = 255


def test_diagonal_pixels_connect_only_with_8_connectivity():
    label = np.array([[1, 0, 0],
                      [0, 1, 0],
                      [0, 0, 1]], np.uint8)
    # class 1: one diagonal region of 3 (8-conn.) or three of 1 (4-conn.);
    # class 0: two regions of 3 either way (they touch only diagonally)
    thresholds = [3, 2]
    np.testing.assert_array_equal(
        remove_small_components(label, thresholds, 8), label)
    np.testing.assert_array_equal(
        remove_small_components(label, thresholds, 4),
        [[X, 0, 0], [0, X, 0], [0, 0, X]])
    # with 8-connectivity class 0's two triangles join: one region of 6
    np.testing.assert_array_equal(
        remove_small_components(label, [4, 1], 8),
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(
        remove_small_components(label, [4, 1], 4),
        [[1, X, X], [X, 1, X], [X, X, 1]])


def test_confidence_holes_split_regions():
    # class 0 everywhere; column 2 is unconfident and cuts it in two
    probs = np.zeros((2, 3, 5))
    probs[0] = 0.95
    probs[1] = 0.05
    probs[:, :, 2] = [[0.6], [0.4]]
    label = confident_argmax(probs, 0.9)
    np.testing.assert_array_equal(label[:, 2], [X, X, X])
    # left part 6 px, right part 6 px: both survive 6, neither survives 7
    np.testing.assert_array_equal(refine_pseudo_label(probs, [6, 1]), label)
    assert (refine_pseudo_label(probs, [7, 1]) == X).all()
    # exactly at the threshold 0.9 is kept (ignore only where max p < 0.9)
    probs[:, 0, 0] = [0.9, 0.1]
    assert confident_argmax(probs, 0.9)[0, 0] == 0


def test_regions_are_per_class_and_ignore_never_grows_a_region():
    label = np.array([[0, 0, 1, 1],
                      [0, X, 1, X],
                      [2, 2, X, X]], np.uint8)
    out = remove_small_components(label, [3, 4, 2])
    np.testing.assert_array_equal(out, [[0, 0, X, X], [0, X, X, X],
                                        [2, 2, X, X]])


def test_released_thresholds_follow_the_formula():
    t16 = np.array(RELEASED_THRESHOLDS['synthia2cs-16'])
    assert t16.min() == 50 and t16.max() == 5000
    # The formula is affine in the shares: shares recovered from the
    # released values give them back.
    np.testing.assert_allclose(thresholds_from_shares(t16 - 50), t16)
    np.testing.assert_allclose(thresholds_from_shares([0.1, 0.3, 0.5]),
                               [50, 2525, 5000])
    assert [len(v) for v in RELEASED_THRESHOLDS.values()] == [16, 7, 7]


def test_bad_arguments():
    with pytest.raises(ValueError, match='connectivity'):
        remove_small_components(np.zeros((2, 2), np.uint8), [1], 6)
    with pytest.raises(ValueError, match='2 region thresholds for 3'):
        refine_pseudo_label(np.full((3, 2, 2), 1 / 3), [1, 2], 0.3)
