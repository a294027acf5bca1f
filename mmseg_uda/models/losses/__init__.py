from .anchor_distance_loss import AnchorDistanceLoss
from .berhu_loss import BerHuLoss, berhu_loss
from .class_weighted_cross_entropy import (ClassWeightedCrossEntropyLoss,
                                           class_weights_from_stats)
from .entropy_loss import EntropyLoss
from .image_wise_weights import (image_wise_class_weights,
                                 image_wise_weighted_sum)
from .max_square_loss import MaxSquareLoss
from .self_guidance_loss import SelfGuidanceLoss
from .soft_label_cross_entropy import (SoftLabelCrossEntropyLoss,
                                       soft_label_cross_entropy)

__all__ = [
    'AnchorDistanceLoss', 'BerHuLoss', 'ClassWeightedCrossEntropyLoss',
    'EntropyLoss', 'MaxSquareLoss', 'SelfGuidanceLoss',
    'SoftLabelCrossEntropyLoss', 'berhu_loss', 'class_weights_from_stats',
    'image_wise_class_weights', 'image_wise_weighted_sum',
    'soft_label_cross_entropy'
]
