"""Label loading whose decode errors name the file."""
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from .checked_load_image import name_decode_errors


@TRANSFORMS.register_module()
class CheckedLoadAnnotations(LoadAnnotations):
    """MMSeg's ``LoadAnnotations`` that names the file it cannot decode.

    MMSeg 1.2.2 decodes labels with Pillow by default and then reports an
    undecodable file as ``cannot identify image file <_io.BytesIO ...>``.
    Arguments are those of :class:`mmseg.datasets.transforms.LoadAnnotations`.

    Raises:
        CorruptFileError: Naming the label file.
    """

    def _load_seg_map(self, results: dict) -> None:
        """Load ``results['seg_map_path']`` into ``results['gt_seg_map']``.

        Args:
            results (dict): Result dict with ``seg_map_path``.
        """
        with name_decode_errors(results['seg_map_path'], 'label'):
            super()._load_seg_map(results)
