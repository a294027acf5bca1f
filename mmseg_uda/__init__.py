"""mmseg_uda: unsupervised domain adaptation for MMSegmentation 1.x.

Importing the package registers every component into MMSegmentation's
registries (``custom_imports = dict(imports=['mmseg_uda'])`` in a config).
"""
from . import utils  # noqa: F401  (safe loading, atomic checkpoints)
from . import datasets, engine, evaluation, models  # noqa: F401

__version__ = '0.1.0'
