from . import hooks, metrics  # noqa: F401
from .measured_tta_model import MeasuredSegTTAModel
from .tta_pipeline import tta_pipeline_from_test_pipeline

__all__ = ['MeasuredSegTTAModel', 'tta_pipeline_from_test_pipeline']
