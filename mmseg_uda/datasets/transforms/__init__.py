
from .check_seg_map_size import CheckSegMapSize  # noqa: F401
from .checked_load_annotations import CheckedLoadAnnotations  # noqa: F401
from .checked_load_image import CheckedLoadImageFromFile  # noqa: F401
from .color_jitter import ColorJitter  # noqa: F401
from .fit_and_pad import FitAndPad  # noqa: F401
from .labels_at_inference_size import LabelsAtInferenceSize  # noqa: F401
from .load_depth import LoadSynthiaDepth  # noqa: F401
from .random_gaussian_blur import RandomGaussianBlur  # noqa: F401
from .random_width_resize import RandomWidthResize  # noqa: F401
from .resize_with_depth import ResizeWithDepth  # noqa: F401
