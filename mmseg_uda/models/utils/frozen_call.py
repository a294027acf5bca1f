"""Call a module with its parameters detached (a frozen discriminator)."""
from torch import Tensor, nn
from torch.func import functional_call


def frozen_call(module: nn.Module, *args) -> Tensor:
    """``module(*args)`` with detached parameters.

    Gradients reach the inputs but never the module's parameters: the
    generator's adversarial term of a one-backward step, whose gradient the
    discriminator's optimiser must not see.

    Args:
        module (nn.Module): E.g. a discriminator.
        *args: Its inputs.

    Returns:
        Tensor: The module's output.
    """
    params = {
        name: param.detach()
        for name, param in module.named_parameters()
    }
    return functional_call(module, params, args)
