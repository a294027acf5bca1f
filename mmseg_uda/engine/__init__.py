from . import hooks, model_wrappers, optimizers, schedulers  # noqa: F401
