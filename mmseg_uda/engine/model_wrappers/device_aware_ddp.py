"""DDP wrapper that also runs on CPU-only machines."""
from typing import List, Optional

from mmengine.model import MMDistributedDataParallel
# mmengine looks model wrappers up in its root registry (Runner.wrap_model).
from mmengine.registry import MODEL_WRAPPERS
from torch import nn

from ...utils.launch import apply_omp_num_threads


@MODEL_WRAPPERS.register_module()
class DeviceAwareDistributedDataParallel(MMDistributedDataParallel):
    """:class:`MMDistributedDataParallel` that drops ``device_ids`` for a
    CPU module.

    mmengine's runner always passes ``device_ids=[LOCAL_RANK]``, which
    PyTorch rejects for a module on the CPU; without CUDA the processes use
    gloo and DDP must get ``device_ids=None``. On a GPU this is exactly
    :class:`MMDistributedDataParallel`. Buffers are not broadcast, as with
    mmengine's default wrapper. Building it also makes torch use the
    ``OMP_NUM_THREADS`` that mmengine exported for the processes
    (:func:`apply_omp_num_threads`).

    Args:
        module (nn.Module): The model.
        device_ids (list[int], optional): The local GPU, ignored on CPU.
        **kwargs: Arguments of ``DistributedDataParallel``.
    """

    def __init__(self,
                 module: nn.Module,
                 device_ids: Optional[List[int]] = None,
                 **kwargs) -> None:
        apply_omp_num_threads()
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        kwargs.setdefault('broadcast_buffers', False)
        super().__init__(
            module=module, device_ids=None if on_cpu else device_ids, **kwargs)
