from .class_gmm_density import ClassGMMDensity, load_class_gmm
from .detached_accuracy import detached_accuracy
from .frozen_batch_norm import FrozenBatchNorm2d
from .frozen_call import frozen_call

__all__ = [
    'ClassGMMDensity', 'FrozenBatchNorm2d', 'detached_accuracy',
    'frozen_call', 'load_class_gmm'
]
