"""Mapillary Vistas validation set in the 7 categories of the depth method."""
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .class_tables import CLASS_SETTINGS, train_id_suffix
from .data_root_check import ConvertedLabelsMixin


@DATASETS.register_module()
class MapillaryDataset(ConvertedLabelsMixin, BaseSegDataset):
    """Mapillary Vistas v1.2 validation images in 7 categories.

    Used only for evaluation (SYNTHIA -> Mapillary, 7 classes). Expected
    layout, after ``python tools/dataset_converters/mapillary.py
    DATA_ROOT`` has converted the labels:

    .. code-block:: none

        DATA_ROOT                                 (Mapillary Vistas)
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

    A missing or empty image folder, or a missing converted label, raises
    :class:`DataRootError` at construction naming the folder or file and
    the converter command.

    Args:
        img_suffix (str): Suffix of the images. Defaults to '.jpg'.
        seg_map_suffix (str): Suffix of the converted labels.
            Defaults to '_labelTrainIds7.png'.
        data_prefix (dict): Image and label folders relative to
            ``data_root``. Defaults to ``dict(img_path='validation/images',
            seg_map_path='validation/labels')``.
        **kwargs: Other arguments of :class:`BaseSegDataset`.
    """
    METAINFO = CLASS_SETTINGS[7].metainfo()
    converter_script = 'mapillary.py'

    def __init__(self,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = train_id_suffix(7),
                 data_prefix: dict = dict(
                     img_path='validation/images',
                     seg_map_path='validation/labels'),
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            data_prefix=data_prefix,
            **kwargs)
