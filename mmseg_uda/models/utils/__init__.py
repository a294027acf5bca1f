from .block_mask import block_mask, mask_images
from .class_gmm_density import ClassGMMDensity, load_class_gmm
from .detached_accuracy import detached_accuracy
from .frozen_batch_norm import FrozenBatchNorm2d
from .frozen_call import frozen_call
from .strong_augmentation import (apply_color_jitter, class_mix_masks,
                                  color_jitter, draw_strong_gates,
                                  gaussian_blur, mix, strong_transform)

__all__ = [
    'ClassGMMDensity', 'FrozenBatchNorm2d', 'apply_color_jitter',
    'block_mask', 'class_mix_masks', 'color_jitter', 'detached_accuracy',
    'draw_strong_gates', 'frozen_call', 'gaussian_blur', 'load_class_gmm',
    'mask_images', 'mix', 'strong_transform'
]
