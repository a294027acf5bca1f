from . import atomic_write, checkpoint_safety, resume  # noqa: F401
from . import weight_matching  # noqa: F401
