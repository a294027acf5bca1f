"""MMSeg's flip/multi-scale TTA model, keeping what each view measured."""
from typing import List

from mmseg.models.segmentors import SegTTAModel
from mmseg.registry import MODELS
from mmseg.utils import SampleList


@MODELS.register_module()
class MeasuredSegTTAModel(SegTTAModel):
    """:class:`SegTTAModel` whose merged samples say how they were made.

    ``SegTTAModel.merge_preds`` averages the softmax of the views (checked
    in tests/test_evaluation/test_tta_flip.py) but returns samples that only
    keep ``img_path``, so the metric could not tell the input scale, the
    label handling or whether a flipped view was averaged. The merged sample
    here keeps the first view's metainfo (``ori_shape``, ``img_shape``,
    ``scale_factor``, ...) and adds ``tta_views``: one
    ``dict(img_shape=(h, w), flip=bool)`` per averaged view, which
    :class:`UDAIoUMetric` reports in its convention line.
    """

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        """Merge the views' predictions (mean softmax) of each image.

        Args:
            data_samples_list (list[list[SegDataSample]]): Per image, the
                predictions of its views (``seg_logits`` (C, H, W)).

        Returns:
            list[SegDataSample]: One sample per image with ``pred_sem_seg``
            (1, H, W), the first view's ``gt_sem_seg`` and metainfo, and
            ``tta_views``.
        """
        merged = super().merge_preds(data_samples_list)
        for sample, views in zip(merged, data_samples_list):
            metainfo = dict(views[0].metainfo)
            metainfo['tta_views'] = [
                dict(
                    img_shape=tuple(view.metainfo.get('img_shape', ())),
                    flip=bool(view.metainfo.get('flip', False)))
                for view in views
            ]
            sample.set_metainfo(metainfo)
        return merged
