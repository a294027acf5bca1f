from .anchor_distance_loss import AnchorDistanceLoss
from .entropy_loss import EntropyLoss
from .image_wise_weights import (image_wise_class_weights,
                                 image_wise_weighted_sum)
from .max_square_loss import MaxSquareLoss
from .self_guidance_loss import SelfGuidanceLoss
from .soft_label_cross_entropy import (SoftLabelCrossEntropyLoss,
                                       soft_label_cross_entropy)

__all__ = [
    'EntropyLoss', 'MaxSquareLoss', 'SelfGuidanceLoss',
    'image_wise_class_weights', 'image_wise_weighted_sum'
]
__all__ += ['SoftLabelCrossEntropyLoss', 'soft_label_cross_entropy']
__all__ += ['AnchorDistanceLoss']
