from .frozen_batch_norm import FrozenBatchNorm2d

__all__ = ['FrozenBatchNorm2d']
from .class_gmm_density import ClassGMMDensity, load_class_gmm  # noqa: E402
from .frozen_call import frozen_call  # noqa: E402

__all__ += ['ClassGMMDensity', 'load_class_gmm', 'frozen_call']
