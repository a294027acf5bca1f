"""Poly learning-rate decay for a loop that steps its scheduler before
each optimiser step (the CAG-UDA release)."""
from typing import List

from mmengine.optim import PolyLR
from mmseg.registry import PARAM_SCHEDULERS


@PARAM_SCHEDULERS.register_module()
class PrestepPolyLR(PolyLR):
    """MMEngine's ``PolyLR`` one step ahead: iteration ``k`` (from 0) uses
    the value ``PolyLR`` gives iteration ``k + 1``.

    MMEngine steps schedulers after the optimiser, so ``PolyLR(end=E)``
    gives iteration ``k`` the lr ``lr0 (1 - k / T)^p`` with
    ``T = E - 1 - begin``. The CAG release (PyTorch < 1.1 order) calls
    ``scheduler.step()`` before ``optimizer.step()``, so its first
    iteration already uses ``lr0 (1 - 1 / 90000)^0.9`` (METHODS.md 6.4).
    Here, for ``k = last_step >= 0``::

        lr_k = eta_min + (lr0 - eta_min) * max(0, 1 - (k + 1) / T)^p

    in closed form from ``base_values`` (the optimiser's ``initial_lr``),
    so late iterations carry no accumulated rounding, and a resumed run
    continues from the checkpoint's ``last_step`` (the scheduler's and the
    optimiser's states are both saved). With ``end = H + 1`` (the project's
    convention for a release horizon H, as for ``PolyLR``) iteration
    ``k`` uses ``(1 - (k + 1) / H)^p``, and the release's last iteration
    ``H - 1`` has lr ``eta_min``. Being closed-form, it is not meant to be
    chained with another lr scheduler over the same iterations.

    Args: as :class:`mmengine.optim.PolyLR`.
    """

    def _get_value(self) -> List[float]:
        """Closed-form value for ``self.last_step``, one step ahead."""
        progress = min((self.last_step + 1) / self.total_iters, 1.0)
        factor = (1 - progress)**self.power
        return [
            self.eta_min + (base - self.eta_min) * factor
            for base in self.base_values
        ]
