"""Builds one optimiser per group of submodules (e.g. segmentor and
discriminator)."""
from typing import Dict, List

from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS
from torch import nn

from .multi_optim_wrapper import MultiOptimWrapper
from .param_groups import merge_param_groups


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MultiOptimWrapperConstructor:
    """Constructor of :class:`MultiOptimWrapper`.

    Each entry of the config is one named optimiser wrapper config. An entry
    with ``modules=[...]`` (dotted submodule paths, e.g.
    ``'uda_terms.0.discriminator'``) optimises those submodules; the single
    entry without ``modules`` optimises every other parameter of the model.
    ``paramwise_cfg`` works per entry as in MMEngine; parameters with equal
    settings end up in one group (:func:`merge_param_groups`: MMEngine
    makes a group per parameter, which is slow and the same maths). The
    first entry is the primary one (see :class:`MultiOptimWrapper`); put
    the segmentor first. Example::

        optim_wrapper = dict(
            constructor='MultiOptimWrapperConstructor',
            segmentor=dict(type='OptimWrapper', optimizer=dict(type='SGD',
                lr=2.5e-4, momentum=0.9, weight_decay=5e-4),
                paramwise_cfg=dict(custom_keys={'decode_head':
                    dict(lr_mult=10.)})),
            discriminator=dict(type='OptimWrapper', optimizer=dict(
                type='Adam', lr=1e-4, betas=(0.9, 0.99)),
                modules=['uda_terms.0.discriminator']))

    Args:
        optim_wrapper_cfg (dict): Named wrapper configs.
        paramwise_cfg (dict, optional): Unused (per entry instead); accepted
            for mmengine's builder signature.
    """

    def __init__(self, optim_wrapper_cfg: dict,
                 paramwise_cfg: dict = None) -> None:
        if paramwise_cfg:
            raise ValueError('MultiOptimWrapperConstructor: give '
                             'paramwise_cfg inside each named entry')
        self.cfgs: Dict[str, dict] = {
            name: dict(cfg) for name, cfg in optim_wrapper_cfg.items()
        }
        rest = [n for n, c in self.cfgs.items() if 'modules' not in c]
        if len(rest) != 1:
            raise ValueError(
                'MultiOptimWrapperConstructor needs exactly one entry '
                f'without "modules" (the segmentor), got {rest}')

    @staticmethod
    def _build(cfg: dict, module: nn.Module) -> OptimWrapper:
        cfg = dict(cfg)
        paramwise = cfg.pop('paramwise_cfg', None)
        wrapper = DefaultOptimWrapperConstructor(cfg, paramwise)(module)
        merge_param_groups(wrapper.optimizer)
        return wrapper

    def __call__(self, model: nn.Module) -> MultiOptimWrapper:
        """Build the wrappers for ``model``.

        Args:
            model (nn.Module): The model (or a DDP wrapper of it).

        Returns:
            MultiOptimWrapper: One wrapper per entry, in config order.
        """
        model = getattr(model, 'module', model)
        claimed: set = set()
        wrappers = {}
        for name, cfg in self.cfgs.items():
            if 'modules' not in cfg:
                continue
            cfg = dict(cfg)
            paths: List[str] = list(cfg.pop('modules'))
            try:
                parts = nn.ModuleList(model.get_submodule(p) for p in paths)
            except AttributeError as err:
                raise KeyError(f'optim_wrapper.{name}.modules: {err}') from err
            claimed.update(id(p) for p in parts.parameters())
            wrappers[name] = self._build(cfg, parts)
        for name, cfg in self.cfgs.items():
            if 'modules' in cfg:
                continue
            wrapper = self._build(cfg, model)
            for group in wrapper.optimizer.param_groups:
                group['params'] = [
                    p for p in group['params'] if id(p) not in claimed
                ]
            wrapper.optimizer.param_groups[:] = [
                g for g in wrapper.optimizer.param_groups if g['params']
            ]
            wrappers[name] = wrapper
        ordered = {name: wrappers[name] for name in self.cfgs}
        return OPTIM_WRAPPERS.build(
            dict(type='MultiOptimWrapper', **ordered))
