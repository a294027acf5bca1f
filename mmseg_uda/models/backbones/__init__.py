# Copyright (c) OpenMMLab. All rights reserved.
from .deeplab_resnet import DeepLabResNet

__all__ = ['DeepLabResNet']
