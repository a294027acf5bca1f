"""Image loading whose decode errors name the file."""
from contextlib import contextmanager
from typing import Iterator, Optional

from mmcv.transforms import LoadImageFromFile
from mmseg.registry import TRANSFORMS


class CorruptFileError(OSError):
    """An image or label file exists but cannot be decoded."""


@contextmanager
def name_decode_errors(path: str, what: str) -> Iterator[None]:
    """Re-raise any decode failure as :class:`CorruptFileError` naming path.

    A missing file already raises ``FileNotFoundError`` with its name and
    passes through unchanged.

    Args:
        path (str): The file being decoded.
        what (str): ``'image'`` or ``'label'``, for the message.
    """
    try:
        yield
    except FileNotFoundError:
        raise
    except Exception as e:  # noqa: BLE001  any decoder error means corrupt
        raise CorruptFileError(
            f'cannot decode {what} file {path!r} (empty, truncated or not '
            f'an image): {type(e).__name__}: {e}') from e


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """``LoadImageFromFile`` that names the file when it cannot be decoded.

    mmcv 2.1.0's loader raises an OpenCV assertion without the file name on
    an empty file, and on other undecodable bytes an ``AssertionError``
    (which ``python -O`` strips, turning it into a later ``AttributeError``).
    Arguments are those of :class:`mmcv.transforms.LoadImageFromFile`.

    Raises:
        CorruptFileError: Naming the file, unless ``ignore_empty=True``.
    """

    def transform(self, results: dict) -> Optional[dict]:
        """Load the image at ``results['img_path']``.

        Args:
            results (dict): Result dict with ``img_path``.

        Returns:
            dict, optional: With ``img`` (H, W, 3), ``img_shape`` and
            ``ori_shape``; None for an unreadable file if ``ignore_empty``.
        """
        with name_decode_errors(results['img_path'], 'image'):
            results = super().transform(results)
            if results is not None and results.get('img') is None:
                raise ValueError('decoder returned no image')
        return results
