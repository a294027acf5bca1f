from . import backbones, decode_heads, losses, segmentors, uda  # noqa: F401
from .data_preprocessor import UDADataPreProcessor

__all__ = ['UDADataPreProcessor']
