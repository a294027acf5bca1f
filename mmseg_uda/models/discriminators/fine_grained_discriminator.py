"""FADA's class-aware domain discriminator."""
from typing import Sequence, Tuple

from mmseg.registry import MODELS
from mmseg.utils import OptMultiConfig

from .feature_discriminator import FeatureDiscriminator


@MODELS.register_module()
class FineGrainedDiscriminator(FeatureDiscriminator):
    """Fine-grained (domain x class) discriminator of FADA.

    The trunk of :class:`FeatureDiscriminator` (3x3 conv 2048 -> 256,
    LeakyReLU 0.2, 3x3 conv 256 -> 128, LeakyReLU 0.2) followed by two 3x3
    conv heads ``128 -> num_classes`` whose outputs are concatenated to
    ``2 * num_classes`` channels: the first C score "source, class k", the
    last C "target, class k" (METHODS.md section 3). The output is upsampled
    bilinearly to the image size; losses take one softmax over all 2C
    channels (:func:`soft_label_cross_entropy`).

    Args:
        num_classes (int): Number of segmentation classes C.
        in_channels (int): Channels of the input feature. Defaults to 2048.
        channels (Sequence[int]): Output channels of the two trunk convs.
            Defaults to (256, 128).
        negative_slope (float): Slope of the LeakyReLUs. Defaults to 0.2.
        align_corners (bool): ``align_corners`` of the upsampling.
            Defaults to True.
        init_cfg (dict or list[dict], optional): Initialization config.
            Defaults to None.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int = 2048,
                 channels: Sequence[int] = (256, 128),
                 negative_slope: float = 0.2,
                 align_corners: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError('FineGrainedDiscriminator: num_classes must be '
                             f'a positive int, got {num_classes!r}')
        # Read by head_channels() while the base class builds the heads.
        self.num_classes = num_classes
        super().__init__(
            in_channels=in_channels,
            channels=channels,
            negative_slope=negative_slope,
            align_corners=align_corners,
            init_cfg=init_cfg)

    def head_channels(self) -> Tuple[int, ...]:
        """A source and a target head with one channel per class."""
        return (self.num_classes, self.num_classes)
