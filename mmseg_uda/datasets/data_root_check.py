"""Early, explicit checks that a dataset folder is present and converted.

Without them a missing folder shows up as an empty dataset (and a sampler
error far from the cause) and a missing converted label as a decode error in
a data loader worker. Both checks run once, at dataset construction.
"""
import os.path as osp
from typing import List, Optional

# Show at most this many missing files; the rest are only counted.
_MAX_LISTED = 5


class DataRootError(FileNotFoundError):
    """A dataset folder is missing or empty, or its labels are unconverted."""


def converter_command(script: str, data_root: Optional[str]) -> str:
    """The command that converts the labels of a dataset.

    Args:
        script (str): File name of the converter in
            ``tools/dataset_converters``, e.g. ``'gta5.py'``.
        data_root (str, optional): The dataset root; a placeholder is used
            when it is unknown.

    Returns:
        str: A shell command, e.g.
        ``python tools/dataset_converters/gta5.py data/gta5``.
    """
    root = data_root or 'DATA_ROOT'
    return f'python tools/dataset_converters/{script} {root}'


def _is_local(path: str) -> bool:
    # Remote backends (``s3://`` etc.) cannot be checked with os.path.
    return '://' not in path


def check_image_dir(img_dir: str, img_suffix: str, owner: str,
                    command: str) -> None:
    """Raise unless ``img_dir`` is an existing local folder.

    Args:
        img_dir (str): The image folder (data root and prefix joined).
        img_suffix (str): Suffix of the image files, for the message.
        owner (str): Name of the dataset class, for the message.
        command (str): The converter command, for the message.

    Raises:
        DataRootError: If the folder does not exist.
    """
    if _is_local(img_dir) and not osp.isdir(img_dir):
        raise DataRootError(
            f'{owner}: image folder {img_dir!r} does not exist. Put the '
            f'dataset there (images named *{img_suffix}) and convert its '
            f'labels with `{command}`, or fix data_root/data_prefix.')


def check_data_list(data_list: List[dict],
                    img_dir: str,
                    img_suffix: str,
                    owner: str,
                    command: str,
                    require_labels: bool = True) -> None:
    """Raise unless the data list is non-empty and every file exists.

    Args:
        data_list (list[dict]): Entries with ``img_path`` and optionally
            ``seg_map_path``, as built by ``BaseSegDataset``.
        img_dir (str): The image folder, for the message.
        img_suffix (str): Suffix of the image files, for the message.
        owner (str): Name of the dataset class, for the message.
        command (str): The converter command, for the message.
        require_labels (bool): Whether a missing label file is an error.
            Defaults to True.

    Raises:
        DataRootError: If no image was found, or an image file or (with
            ``require_labels``) a label file is missing.
    """
    if not data_list:
        raise DataRootError(
            f'{owner}: no images named *{img_suffix} under {img_dir!r}. Put '
            f'the dataset there and convert its labels with `{command}`.')
    if not _is_local(data_list[0]['img_path']):
        return
    missing_images = [
        info['img_path'] for info in data_list
        if not osp.isfile(info['img_path'])
    ]
    if missing_images:
        raise DataRootError(f'{owner}: {len(missing_images)} image file(s) '
                            f'listed but missing: '
                            f'{_abbreviate(missing_images)}')
    if not require_labels:
        return
    missing_labels = [
        info['seg_map_path'] for info in data_list
        if info.get('seg_map_path') and not osp.isfile(info['seg_map_path'])
    ]
    if missing_labels:
        raise DataRootError(
            f'{owner}: {len(missing_labels)} of {len(data_list)} converted '
            f'label file(s) are missing, e.g. {_abbreviate(missing_labels)}. '
            f'Create them with `{command}`, or fix '
            f"data_prefix['seg_map_path'].")


def abbreviate(paths: List[str]) -> str:
    """The first few paths, quoted, and how many more there are.

    Args:
        paths (list[str]): Paths to list, e.g. missing files.

    Returns:
        str: E.g. ``"'a.png', 'b.png' and 3 more"``.
    """
    listed = ', '.join(repr(p) for p in paths[:_MAX_LISTED])
    hidden = len(paths) - _MAX_LISTED
    return listed + (f' and {hidden} more' if hidden > 0 else '')


_abbreviate = abbreviate


class ConvertedLabelsMixin:
    """Check folders and converted labels when a seg dataset is loaded.

    Put it before :class:`mmseg.datasets.BaseSegDataset` (or a subclass) in
    the bases and name the converter in ``converter_script``. Every sample
    also carries ``num_classes`` (the number of ``metainfo['classes']``),
    against which ``CheckedLoadAnnotations`` checks the label values.

    Args:
        require_labels (bool): Whether every image must have its converted
            label. False for a split used unlabeled (the adaptation target),
            whose labels may be absent. Defaults to True.
        *args, **kwargs: Arguments of the dataset base class.
    """

    converter_script: str = ''

    def __init__(self, *args, require_labels: bool = True, **kwargs) -> None:
        # Set first: the base class loads (and checks) the data list.
        self.require_labels = require_labels
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Load the data list of the base class and check it.

        Returns:
            list[dict]: The data list of the base class.

        Raises:
            DataRootError: If the image folder is missing or empty, or an
                image or (with ``require_labels``) a converted label file is
                missing.
        """
        owner = type(self).__name__
        command = converter_command(self.converter_script, self.data_root)
        img_dir = self.data_prefix.get('img_path', '') or self.data_root or ''
        check_image_dir(img_dir, self.img_suffix, owner, command)
        data_list = super().load_data_list()
        check_data_list(data_list, img_dir, self.img_suffix, owner, command,
                        self.require_labels)
        return data_list

    def get_data_info(self, idx: int) -> dict:
        """The base class's data info plus ``num_classes``.

        Args:
            idx (int): Sample index.

        Returns:
            dict: Data info with ``num_classes`` (the number of classes the
            labels may hold, besides the ignore index).
        """
        info = super().get_data_info(idx)
        # _metainfo: the metainfo property deep-copies it for every sample.
        info['num_classes'] = len(self._metainfo['classes'])
        return info
