from .deeplab_resnet import DeepLabResNet
from .release_mit import ReleaseMixVisionTransformer

__all__ = ['DeepLabResNet', 'ReleaseMixVisionTransformer']
