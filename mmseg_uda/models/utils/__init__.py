from .detached_accuracy import detached_accuracy
from .frozen_batch_norm import FrozenBatchNorm2d

__all__ = ['FrozenBatchNorm2d', 'detached_accuracy']
from .class_gmm_density import ClassGMMDensity, load_class_gmm  # noqa: E402
from .frozen_call import frozen_call  # noqa: E402

__all__ += ['ClassGMMDensity', 'load_class_gmm', 'frozen_call']
