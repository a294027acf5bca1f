from . import (atomic_write, checkpoint_integrity,  # noqa: F401
               checkpoint_safety, resume, weight_matching)
