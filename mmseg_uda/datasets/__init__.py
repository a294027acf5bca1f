from .uda_dataset import UDADataset

__all__ = ['UDADataset']
