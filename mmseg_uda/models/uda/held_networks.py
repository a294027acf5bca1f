"""Networks a term keeps outside the module tree, yet in the checkpoint."""
from typing import Dict, Iterator, List, Tuple

from torch import Tensor, nn

from ...utils.checkpoint_safety import last_loaded_source


class HoldsNetworks:
    """Mixin for a term (an ``nn.Module``) that holds network copies which
    must stay out of the module tree.

    A held network (CAG's frozen prediction model, DACS's mean teacher,
    FD's frozen ImageNet backbone) is not a submodule, so it is in no
    optimiser built from the model's parameters, not among DDP's
    parameters or broadcast buffers, and the runner's ``model.train()`` /
    ``model.eval()`` never reach it (the holder decides its mode). It is
    nevertheless part of the holder's state dict (``<prefix><name>.*``,
    hence of every checkpoint and of ``--resume``) and follows ``.to()`` /
    ``.cuda()`` / ``.half()`` / ``.double()`` and memory-format changes of
    the model. A state dict without any of a held
    network's keys (a previous stage's checkpoint, e.g. a ``load_from`` of
    a source-only model) leaves it as it is and reports its keys missing;
    a state dict whose tensors do not fit it raises, naming the checkpoint
    and the keys. A load that fills every tensor of a held network calls
    :meth:`_held_network_loaded` (FD reads its ImageNet weights lazily,
    unless a checkpoint provided them).

    Usage: ``class Term(HoldsNetworks, BaseModule)``, then
    ``self.hold('name', network)`` (typically in ``attach``) and
    ``self.held('name')``.
    """

    def _held_dict(self) -> Dict[str, nn.Module]:
        # Created lazily: the mixin has no __init__ of its own, so it works
        # with any nn.Module base and argument list.
        if '_held_networks' not in self.__dict__:
            self.__dict__['_held_networks'] = {}
        return self.__dict__['_held_networks']

    def hold(self, name: str, network: nn.Module) -> None:
        """Keep ``network`` as ``name`` (replacing one of that name)."""
        if not name.isidentifier():
            raise ValueError(f'{type(self).__name__}: held network name '
                             f'{name!r} is not an identifier')
        self._held_dict()[name] = network

    def held(self, name: str) -> nn.Module:
        """The network held as ``name``.

        Raises:
            RuntimeError: If none is held (the term was not attached to a
                segmentor).
        """
        network = self._held_dict().get(name)
        if network is None:
            raise RuntimeError(
                f'{type(self).__name__}: no {name} network; the term must be '
                'built by UDAEncoderDecoder (which calls its attach)')
        return network

    def held_networks(self) -> Iterator[Tuple[str, nn.Module]]:
        """``(name, network)`` of every held network."""
        return iter(list(self._held_dict().items()))

    def _held_network_loaded(self, name: str) -> None:
        """Called after a state dict filled every tensor of the held
        network ``name``; does nothing unless the holder overrides it."""

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        for network in self._held_dict().values():
            network._apply(fn, *args, **kwargs)
        return self

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        for name, network in self._held_dict().items():
            network.state_dict(
                destination=destination,
                prefix=f'{prefix}{name}.',
                keep_vars=keep_vars)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs):
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)
        for name, network in self._held_dict().items():
            full = f'{prefix}{name}.'
            unexpected_keys[:] = [
                k for k in unexpected_keys if not k.startswith(full)
            ]
            held_state = {
                k[len(full):]: v
                for k, v in state_dict.items() if k.startswith(full)
            }
            if not held_state:  # e.g. the previous stage's checkpoint
                missing_keys += [full + k for k in network.state_dict()]
                continue
            try:
                result = network.load_state_dict(held_state, strict=False)
            except RuntimeError as err:  # size mismatch
                source = last_loaded_source[0] or '<state dict>'
                raise ValueError(
                    f'{source}: the tensors under {full}* do not fit '
                    f'this model\'s {name} network (a checkpoint of '
                    f'another architecture?): {err}') from err
            missing_keys += [full + k for k in result.missing_keys]
            unexpected_keys += [full + k for k in result.unexpected_keys]
            if not result.missing_keys:
                self._held_network_loaded(name)


def named_held_modules(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """``(state-dict prefix without the dot, network)`` of every network
    held (outside the module tree) by a module of ``model``, in module
    order, e.g. ``('uda_terms.0.teacher', <MeanTeacher>)``."""
    return [(f'{path}.{name}' if path else name, network)
            for path, module in model.named_modules()
            if isinstance(module, HoldsNetworks)
            for name, network in module.held_networks()]


def held_buffers(model: nn.Module) -> List[Tensor]:
    """The buffers of every network held by a module of ``model`` (which
    ``model.buffers()`` does not include)."""
    return [
        b for _, network in named_held_modules(model)
        for b in network.buffers()
    ]
