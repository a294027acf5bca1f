"""Mapillary Vistas in the 7 categories of the depth method: the validation
set (evaluation) and the training images (unlabelled target, or the
self-training set named by an image list in that list's order)."""
import os.path as osp
from typing import Dict, List, Optional

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .class_tables import CLASS_SETTINGS, train_id_suffix
from .data_root_check import ConvertedLabelsMixin, abbreviate

_LISTS_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'lists')

#: Image lists shipped with the package, by name. 'depth-selftrain': the
#: depth-distribution release's Vistas self-training list
#: (``depth_distribution/main/dataset/mapillary_list/selftrain.txt`` of
#: github.com/depdis/Depth_Distribution at commit 2ec22a1): the 9,000
#: training images its pseudo-label and self-training scripts read, one file
#: name per line, in the release's order (not sorted).
RELEASED_IMAGE_LISTS: Dict[str, str] = {
    'depth-selftrain': osp.join(_LISTS_DIR,
                                'depth_release_vistas_selftrain.txt'),
}


def read_image_list(path: str, img_suffix: str) -> List[str]:
    """The image names of a list file, in the file's order.

    One image per line, with or without ``img_suffix`` (the release's lists
    hold ``<id>.jpg``); blank lines are skipped.

    Args:
        path (str): The list file.
        img_suffix (str): The dataset's image suffix, e.g. '.jpg'.

    Returns:
        list[str]: Names without the suffix.

    Raises:
        FileNotFoundError: If the file does not exist, naming it.
        ValueError: If it is empty or names an image twice, naming it.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'image list {path!r} does not exist (give a file, relative to '
            f'data_root unless absolute, or one of '
            f'{sorted(RELEASED_IMAGE_LISTS)})')
    with open(path) as f:
        lines = [line.strip() for line in f]
    names = [
        line[:-len(img_suffix)]
        if img_suffix and line.endswith(img_suffix) else line
        for line in lines if line
    ]
    if not names:
        raise ValueError(f'image list {path!r} is empty')
    seen, repeated = set(), []
    for name in names:
        if name in seen:
            repeated.append(name)
        seen.add(name)
    if repeated:
        raise ValueError(f'image list {path!r} names images twice: '
                         f'{abbreviate(repeated)}')
    return names


class _ListedImages(BaseSegDataset):
    """``BaseSegDataset`` whose images may come from an image list.

    Without ``image_list`` the images are the folder's, sorted
    (``BaseSegDataset``); with it, those the list names, in the list's
    order, so ``indices=N`` takes the list's first N. Sits below
    :class:`ConvertedLabelsMixin`, which then checks exactly the listed
    files.
    """

    image_list: Optional[str] = None

    def _image_list_path(self) -> str:
        if self.image_list in RELEASED_IMAGE_LISTS:
            return RELEASED_IMAGE_LISTS[self.image_list]
        if osp.isabs(self.image_list) or not self.data_root:
            return self.image_list
        return osp.join(self.data_root, self.image_list)

    def load_data_list(self) -> List[dict]:
        """The folder's images, or the listed ones in the list's order.

        Returns:
            list[dict]: Data infos as ``BaseSegDataset`` builds them.
        """
        if self.image_list is None:
            return super().load_data_list()
        img_dir = self.data_prefix.get('img_path', '')
        ann_dir = self.data_prefix.get('seg_map_path', None)
        data_list = []
        for name in read_image_list(self._image_list_path(),
                                    self.img_suffix):
            info = dict(img_path=osp.join(img_dir, name + self.img_suffix))
            if ann_dir is not None:
                info['seg_map_path'] = osp.join(ann_dir,
                                                name + self.seg_map_suffix)
            info.update(
                label_map=self.label_map,
                reduce_zero_label=self.reduce_zero_label,
                seg_fields=[])
            data_list.append(info)
        return data_list


@DATASETS.register_module()
class MapillaryDataset(ConvertedLabelsMixin, _ListedImages):
    """Mapillary Vistas v1.2 in 7 categories.

    The validation set is the evaluation set of SYNTHIA -> Mapillary (7
    classes); the training images are the unlabelled target, and (with
    ``image_list``) the self-training set. Expected layout, after
    ``python tools/dataset_converters/mapillary.py DATA_ROOT`` has
    converted the labels:

    .. code-block:: none

        DATA_ROOT                                 (Mapillary Vistas)
        ├── training
        │   ├── images
        │   │   ├── <name>.jpg
        ├── validation
        │   ├── images
        │   │   ├── <name>.jpg
        │   ├── labels                            (v1.2)
        │   │   ├── <name>.png                    (raw, ids 0..65)
        │   │   ├── <name>_labelTrainIds7.png     (converted, 0..6, 255)

    The 7 categories (flat, construction, object, nature, sky, human,
    vehicle) group the 66 Vistas v1.2 classes as listed in
    ``class_tables.MAPILLARY_SEVEN_GROUPS``. For the v2.0 archive, whose
    v1.2 labels are in ``validation/v1.2/labels``, pass
    ``data_prefix=dict(img_path='validation/images',
    seg_map_path='validation/v1.2/labels')``.

    A missing or empty image folder, or a missing image or converted label
    (of a listed image, with ``image_list``), raises :class:`DataRootError`
    at construction naming the folder or file and the converter command.

    Args:
        img_suffix (str): Suffix of the images. Defaults to '.jpg'.
        seg_map_suffix (str): Suffix of the converted labels.
            Defaults to '_labelTrainIds7.png'.
        data_prefix (dict): Image and label folders relative to
            ``data_root``. Defaults to ``dict(img_path='validation/images',
            seg_map_path='validation/labels')``.
        image_list (str, optional): Read the images named by this list (one
            file name per line, the suffix optional) in the list's order
            instead of the folder's sorted files: a name in
            :data:`RELEASED_IMAGE_LISTS` ('depth-selftrain': the depth
            release's 9,000 self-training images) or a file, relative to
            ``data_root`` unless absolute. Defaults to None.
        **kwargs: Other arguments of :class:`BaseSegDataset` (``indices=N``
            keeps the first N, in the list's order with ``image_list``).
    """
    METAINFO = CLASS_SETTINGS[7].metainfo()
    converter_script = 'mapillary.py'

    def __init__(self,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = train_id_suffix(7),
                 data_prefix: dict = dict(
                     img_path='validation/images',
                     seg_map_path='validation/labels'),
                 image_list: Optional[str] = None,
                 **kwargs) -> None:
        # Set first: the base class loads the data list.
        self.image_list = image_list
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            data_prefix=data_prefix,
            **kwargs)
