"""Spatial-prior pseudo-label refinement of the depth-distribution method:
confident argmax, then small connected regions become ignore."""
from typing import Dict, Optional, Sequence

import numpy as np
from scipy import ndimage

IGNORE_INDEX = 255

# Released per-class size thresholds (pixels at 1280x760; METHODS.md 6.3).
# The 16-class ones are 50 + 4950 (n_c - n_min) / (n_max - n_min) on the
# source class pixel shares (thresholds_from_shares).
RELEASED_THRESHOLDS: Dict[str, tuple] = {
    'synthia2cs-16': (3165, 3311, 5000, 89, 89, 219, 50, 61, 1788, 1202, 762,
                      123, 730, 302, 78, 81),
    'synthia2cs-7': (1000, 772, 100, 316, 234, 173, 173),
    'synthia2mapillary-7': (100, 87, 50, 62, 57, 54, 54),
}


def thresholds_from_shares(shares: Sequence[float],
                           base0: float = 50.,
                           base1: float = 4950.) -> np.ndarray:
    """``N_c = base0 + base1 * (n_c - n_min) / (n_max - n_min)``.

    Args:
        shares (Sequence[float]): Source pixel share (or count) per class.
        base0 (float): Smallest threshold. Defaults to 50.
        base1 (float): Range of the thresholds. Defaults to 4950.

    Returns:
        np.ndarray: Thresholds in pixels, shape (C, ), float64.
    """
    n = np.asarray(shares, dtype=np.float64)
    span = n.max() - n.min()
    if span <= 0:
        return np.full_like(n, base0)
    return base0 + base1 * (n - n.min()) / span


def confident_argmax(probs: np.ndarray, confidence: float = 0.9) -> np.ndarray:
    """Argmax where ``max p >= confidence``, else ignore.

    Args:
        probs (np.ndarray): Softmax probabilities, shape (C, H, W).
        confidence (float): Smallest kept max probability. Defaults to 0.9.

    Returns:
        np.ndarray: Labels, shape (H, W), uint8 (255 = ignore).
    """
    label = probs.argmax(axis=0).astype(np.uint8)
    label[probs.max(axis=0) < confidence] = IGNORE_INDEX
    return label


def remove_small_components(label: np.ndarray,
                            thresholds: Sequence[float],
                            connectivity: int = 8) -> np.ndarray:
    """Ignore every connected same-label region smaller than its class's
    threshold.

    Args:
        label (np.ndarray): Labels, shape (H, W), uint8 (255 = ignore).
        thresholds (Sequence[float]): Minimum region size per class, in
            pixels; a region of ``n < thresholds[c]`` pixels is removed.
        connectivity (int): 8 (diagonal neighbours connect; the release)
            or 4. Defaults to 8.

    Returns:
        np.ndarray: A refined copy.
    """
    if connectivity not in (4, 8):
        raise ValueError(f'connectivity must be 4 or 8, got {connectivity}')
    structure = ndimage.generate_binary_structure(2, 2 if connectivity == 8
                                                  else 1)
    out = label.copy()
    for c in np.unique(label):
        if c == IGNORE_INDEX:
            continue
        if c >= len(thresholds):
            raise ValueError(f'label {c} has no threshold ({len(thresholds)} '
                             'classes)')
        regions, count = ndimage.label(label == c, structure=structure)
        sizes = np.bincount(regions.ravel(), minlength=count + 1)
        small = sizes < thresholds[c]
        small[0] = False  # background of the mask
        out[small[regions]] = IGNORE_INDEX
    return out


def refine_pseudo_label(probs: np.ndarray,
                        thresholds: Optional[Sequence[float]],
                        confidence: float = 0.9,
                        connectivity: int = 8) -> np.ndarray:
    """The spatial-prior pseudo-label of one image (METHODS.md sec. 5).

    Args:
        probs (np.ndarray): Softmax probabilities, (C, H, W), at the size
            the thresholds are meant for (the input size).
        thresholds (Sequence[float], optional): Per-class minimum region
            sizes; None skips the region step.
        confidence (float): Defaults to 0.9.
        connectivity (int): Defaults to 8.

    Returns:
        np.ndarray: (H, W) uint8 labels, 255 = ignore.
    """
    label = confident_argmax(probs, confidence)
    if thresholds is None:
        return label
    if len(thresholds) != probs.shape[0]:
        raise ValueError(f'{len(thresholds)} region thresholds for '
                         f'{probs.shape[0]} classes')
    return remove_small_components(label, thresholds, connectivity)
