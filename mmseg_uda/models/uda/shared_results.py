"""Intermediate results that one term computes and later terms of the same
training iteration read (e.g. DACS's pseudo-labels, read by MIC)."""
from typing import Dict, Iterable, Sequence, Tuple

from torch import Tensor, nn


class SharedResults:
    """A write-once store of one iteration's results on one domain's
    images, carried by that domain's :class:`DomainOutputs` (``.shared``).

    The segmentor creates fresh :class:`DomainOutputs` in every ``loss``
    call, so a store lives for one iteration and holds no state between
    iterations (nothing to checkpoint, nothing stale). A term that computes
    something other terms need (DACS: the teacher's pseudo-label ``ŷ`` and
    pixel weight ``w_t`` of the target batch, METHODS.md sec. 7.6)
    :meth:`publish`-es it; a later term :meth:`get`-s it instead of
    recomputing it or reaching into the first term. Terms declare the keys
    they write and read on the target's store as class (or instance)
    attributes ``publishes`` and ``reads``; :func:`check_shared_results`
    (called by ``UDAEncoderDecoder`` at build time) refuses a term list in
    which a key is read before, or without, a term that publishes it.

    Shared values carry no gradient (:meth:`publish` refuses one): every
    term's graph is its own, so a term's losses can be back-propagated
    before the next term runs.
    """

    def __init__(self) -> None:
        self._values: Dict[str, Tensor] = {}
        self._publishers: Dict[str, str] = {}

    def publish(self, key: str, value: Tensor, by: str) -> None:
        """Store ``value`` as ``key``.

        Args:
            key (str): The result's name, e.g. ``'pseudo_label'``.
            value (Tensor): The result; must not require grad.
            by (str): Who publishes it (for error messages), e.g. ``'DACS'``.

        Raises:
            KeyError: If ``key`` was already published this iteration.
            ValueError: If ``value`` requires grad.
        """
        if key in self._values:
            raise KeyError(
                f'SharedResults: {by} publishes {key!r}, which '
                f'{self._publishers[key]} published already this iteration; '
                'two terms in model.uda_terms compute the same result')
        if value.requires_grad:
            raise ValueError(
                f'SharedResults: {by} publishes {key!r} with a gradient; '
                'shared results must be detached (each term back-propagates '
                'its own graph)')
        self._values[key] = value
        self._publishers[key] = by

    def get(self, key: str, reader: str) -> Tensor:
        """The value published as ``key``.

        Args:
            key (str): The result's name.
            reader (str): Who reads it (for error messages).

        Raises:
            KeyError: If no term published ``key`` this iteration, naming
                what was published and by whom.
        """
        if key not in self._values:
            have = ', '.join(f'{k!r} by {v}'
                             for k, v in self._publishers.items()) or 'none'
            raise KeyError(
                f'SharedResults: {reader} reads {key!r}, which no term '
                f'published this iteration (published: {have}); list the '
                'term that computes it before ' + reader +
                ' in model.uda_terms')
        return self._values[key]

    def __contains__(self, key: str) -> bool:
        return key in self._values

    def keys(self) -> Tuple[str, ...]:
        """The published keys, in publication order."""
        return tuple(self._values)


def check_shared_results(terms: Iterable[nn.Module]) -> None:
    """Check, in list order, that every key a term ``reads`` is
    ``publishes``-ed by an earlier term, and by one term only.

    Args:
        terms (Iterable[nn.Module]): The ``uda_terms`` in order.

    Raises:
        ValueError: Naming the term (index and type) and the keys.
    """
    publishers: Dict[str, str] = {}
    for index, term in enumerate(terms):
        name = f'model.uda_terms[{index}] ({type(term).__name__})'
        reads: Sequence[str] = getattr(term, 'reads', ())
        missing = [key for key in reads if key not in publishers]
        if missing:
            raise ValueError(
                f'{name} reads {missing} of the target batch, which no term '
                'before it publishes (published before it: '
                f'{sorted(publishers) or "none"}); put the term that '
                'computes them (DACS for pseudo_label / pseudo_weight) '
                'earlier in model.uda_terms')
        for key in getattr(term, 'publishes', ()):
            if key in publishers:
                raise ValueError(
                    f'{name} publishes {key!r}, which {publishers[key]} '
                    'publishes already; one term per shared result')
            publishers[key] = name
