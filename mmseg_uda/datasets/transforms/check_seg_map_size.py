"""Fail loudly on a label whose size differs from its image's."""
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class CheckSegMapSize(BaseTransform):
    """Check that the label has the image's height and width.

    Some published datasets (GTA5 among them) contain image/label pairs of
    different sizes; a later resize would silently misalign them. Place this
    right after ``LoadImageFromFile`` and ``LoadAnnotations``. Samples
    without a label (unlabeled target data) pass unchanged.

    Required Keys:

    - img
    - img_path
    - gt_seg_map (optional)
    - seg_map_path (optional)

    Raises:
        ValueError: Naming the label file, the image file and both shapes,
            when the sizes differ or the label is not a 2-D map.
    """

    def transform(self, results: dict) -> dict:
        """Check the sizes.

        Args:
            results (dict): Result dict after image and label loading.

        Returns:
            dict: ``results``, unchanged.
        """
        seg_map = results.get('gt_seg_map')
        if seg_map is None:
            return results
        img_hw = tuple(results['img'].shape[:2])
        if seg_map.ndim != 2:
            # E.g. a colour-coded label given where train ids are expected.
            raise ValueError(
                f'label {results.get("seg_map_path")!r} has shape '
                f'{seg_map.shape}; expected a single-channel (H, W) map of '
                f'class ids for image {results.get("img_path")!r}')
        seg_hw = tuple(seg_map.shape)
        if seg_hw != img_hw:
            raise ValueError(
                f'label {results.get("seg_map_path")!r} has (H, W) = '
                f'{seg_hw} but image {results.get("img_path")!r} has (H, W) '
                f'= {img_hw}; the pair cannot be aligned')
        return results
