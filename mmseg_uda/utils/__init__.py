from . import (atomic_write, checkpoint_safety, resume,  # noqa: F401
               weight_matching)
