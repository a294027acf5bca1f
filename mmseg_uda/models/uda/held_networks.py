"""Networks a loss term owns outside its module tree, yet in its
checkpoint."""
from typing import Dict

from torch import nn


class HeldNetworks:
    """Mixin for an ``nn.Module`` term that keeps whole networks (CAG's
    frozen prediction model, FD's ImageNet backbone) as *held* networks.

    A held network is not a submodule: it is in no optimiser, not in DDP's
    parameters or broadcast buffers, and the runner's ``model.train()``
    does not reach it. It still follows ``.to()`` / ``.cuda()`` and is
    saved and loaded with the term, under ``<term prefix><name>.``. A
    checkpoint without its keys (e.g. the previous stage's) leaves it as it
    is and reports them missing; :meth:`_held_network_loaded` tells the
    term which held networks a load filled completely.

    The class must come before ``nn.Module`` in the term's bases.
    """

    @property
    def _held_networks(self) -> Dict[str, nn.Module]:
        # Created on first use, as a plain attribute (not registered).
        held = self.__dict__.get('_held_network_dict')
        if held is None:
            held = self.__dict__['_held_network_dict'] = {}
        return held

    def hold(self, name: str, network: nn.Module) -> None:
        """Keep ``network`` under ``name`` (replacing any held before)."""
        self._held_networks[name] = network

    def held(self, name: str) -> nn.Module:
        """The network held under ``name``.

        Raises:
            RuntimeError: If the term holds none under that name (it was
                not attached to a segmentor).
        """
        if name not in self._held_networks:
            raise RuntimeError(
                f'{type(self).__name__}: no {name}; the term must be built '
                'by UDAEncoderDecoder, which attaches it to the segmentor')
        return self._held_networks[name]

    def _held_network_loaded(self, name: str) -> None:
        """Called after a load filled every tensor of the held network
        ``name``."""

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        for network in self._held_networks.values():
            network._apply(fn, *args, **kwargs)
        return self

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        for name, network in self._held_networks.items():
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
        for name, network in self._held_networks.items():
            full = f'{prefix}{name}.'
            unexpected_keys[:] = [
                k for k in unexpected_keys if not k.startswith(full)
            ]
            held_state = {
                k[len(full):]: v
                for k, v in state_dict.items() if k.startswith(full)
            }
            if not held_state:
                missing_keys += [full + k for k in network.state_dict()]
                continue
            result = network.load_state_dict(held_state, strict=False)
            missing_keys += [full + k for k in result.missing_keys]
            unexpected_keys += [full + k for k in result.unexpected_keys]
            if not result.missing_keys:
                self._held_network_loaded(name)
