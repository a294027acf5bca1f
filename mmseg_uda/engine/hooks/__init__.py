from .category_anchor_hook import CategoryAnchorHook

__all__ = ['CategoryAnchorHook']
