"""Parameter groups as MaxSquare's released builder lists them."""
from collections import Counter
from typing import Dict, List, Sequence

from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmseg.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                            OPTIMIZERS)
from torch import nn


def nested_listings(model: nn.Module,
                    module_paths: Sequence[str]) -> Dict[int, int]:
    """How often the released builder lists each tensor.

    The release's 1x group walks the backbone's top-level parts (``conv1``,
    ``bn1``, ``layer1`` ... ``layer4``) and, for every module inside a part
    (the part itself and all nested ones), yields all parameters of that
    module, nested ones included, that require a gradient. A tensor is
    therefore listed once per module on its path from the part down to its
    owner: a stem conv once, a bottleneck conv 3 times (layer, block,
    conv), a downsample tensor 4 times (layer, block, downsample, conv).

    Args:
        model (nn.Module): The model.
        module_paths (Sequence[str]): Dotted paths of the modules whose
            direct children are the release's parts, e.g. ``['backbone']``.

    Returns:
        dict[int, int]: ``id(param)`` -> number of listings, for the
        trainable tensors under ``module_paths``.

    Raises:
        KeyError: If a path names no submodule.
    """
    counts: Counter = Counter()
    for path in module_paths:
        try:
            top = model.get_submodule(path)
        except AttributeError as err:
            raise KeyError(
                f'optim_wrapper.nested_listing_modules: {err}') from err
        # Tensors owned by the top module itself belong to no part.
        for param in top.parameters(recurse=False):
            if param.requires_grad:
                counts[id(param)] += 1
        for part in top.children():
            for module in part.modules():
                for param in module.parameters():
                    if param.requires_grad:
                        counts[id(param)] += 1
    return dict(counts)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class NestedListingOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """MaxSquare's released SGD: backbone tensors updated once per listing.

    Builds the parameter groups as MMEngine's default constructor does
    (``paramwise_cfg``, e.g. the heads' ``lr_mult=10``), then gives every
    group the number of times the release's builder lists its tensor
    (:func:`nested_listings`; tensors elsewhere, e.g. the heads, once) as
    the ``listings`` key that :class:`RepeatedListingSGD` honours. With the
    DeepLab-V2 ResNet this is the released arithmetic: stem conv once, the
    12 downsample tensors 4 times, every other trainable backbone tensor 3
    times, the classifiers once at 10x. The per-group ``lr`` is what
    MMEngine's parameter schedulers scale, so ``PolyLR`` drives it as usual.

    The plain optimiser (each tensor updated once per step, heads truly at
    10x) is MMEngine's ``DefaultOptimWrapperConstructor`` with
    ``type='SGD'``.

    Example::

        optim_wrapper = dict(
            type='OptimWrapper',
            constructor='NestedListingOptimWrapperConstructor',
            nested_listing_modules=['backbone'],
            optimizer=dict(type='RepeatedListingSGD', lr=2.5e-4,
                           momentum=0.9, weight_decay=5e-4),
            paramwise_cfg=dict(custom_keys=dict(
                decode_head=dict(lr_mult=10.0))))

    Args:
        optim_wrapper_cfg (dict): The wrapper config; its
            ``nested_listing_modules`` (default ``['backbone']``) names the
            modules whose parts are walked; the optimiser must accept a
            group key ``listings`` (``RepeatedListingSGD``).
        paramwise_cfg (dict, optional): As in MMEngine.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: dict = None) -> None:
        optim_wrapper_cfg = dict(optim_wrapper_cfg)
        self.nested_listing_modules: List[str] = list(
            optim_wrapper_cfg.pop('nested_listing_modules', ['backbone']))
        optimizer_type = optim_wrapper_cfg.get('optimizer', {}).get('type')
        if optimizer_type != 'RepeatedListingSGD':
            raise ValueError(
                'NestedListingOptimWrapperConstructor needs '
                f"optimizer.type='RepeatedListingSGD', got {optimizer_type!r}"
                " (use DefaultOptimWrapperConstructor for plain SGD)")
        super().__init__(optim_wrapper_cfg, paramwise_cfg)

    def __call__(self, model: nn.Module) -> OptimWrapper:
        """Build the wrapper for ``model`` (or a DDP wrapper of it)."""
        model = getattr(model, 'module', model)
        listings = nested_listings(model, self.nested_listing_modules)
        groups: List[dict] = []
        self.add_params(groups, model)
        for group in groups:
            (param, ) = group['params']
            group['listings'] = listings.get(id(param), 1)
        optimizer = OPTIMIZERS.build(
            dict(self.optimizer_cfg, params=groups))
        wrapper_cfg = dict(self.optim_wrapper_cfg)
        wrapper_cfg.setdefault('type', 'OptimWrapper')
        return OPTIM_WRAPPERS.build(
            wrapper_cfg, default_args=dict(optimizer=optimizer))
