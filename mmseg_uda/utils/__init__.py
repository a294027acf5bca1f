from . import atomic_write, checkpoint_safety  # noqa: F401
