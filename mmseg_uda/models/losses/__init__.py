from .entropy_loss import EntropyLoss
from .image_wise_weights import (image_wise_class_weights,
                                 image_wise_weighted_sum)
from .max_square_loss import MaxSquareLoss
from .self_guidance_loss import SelfGuidanceLoss

__all__ = [
    'EntropyLoss', 'MaxSquareLoss', 'SelfGuidanceLoss',
    'image_wise_class_weights', 'image_wise_weighted_sum'
]
