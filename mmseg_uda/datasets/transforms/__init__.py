
from .random_gaussian_blur import RandomGaussianBlur  # noqa: F401
from .labels_at_inference_size import LabelsAtInferenceSize  # noqa: F401
from .check_seg_map_size import CheckSegMapSize  # noqa: F401
from .checked_load_annotations import CheckedLoadAnnotations  # noqa: F401
from .checked_load_image import CheckedLoadImageFromFile  # noqa: F401
