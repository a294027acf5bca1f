"""Shared test set-up: MMSeg's registries with mmseg_uda's components, in
the 'mmseg' default scope that configs use."""
from mmseg.utils import register_all_modules

import mmseg_uda  # noqa: F401

register_all_modules(init_default_scope=True)
