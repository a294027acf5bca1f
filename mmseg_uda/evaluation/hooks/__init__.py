from .checkpoint_info_hook import CheckpointInfoHook
from .side_by_side_visualization_hook import SideBySideVisualizationHook

__all__ = ['CheckpointInfoHook', 'SideBySideVisualizationHook']
