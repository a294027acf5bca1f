from . import (backbones, decode_heads, discriminators, losses,  # noqa: F401
               segmentors, uda, utils)
from .data_preprocessor import UDADataPreProcessor

__all__ = ['UDADataPreProcessor']
