"""Data-parallel training helpers: one process per device, gradients averaged.

``torchrun --nproc_per_node N`` starts N copies of the same script and sets
``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` for each. Every copy

1. joins a process group (:func:`init`: ``gloo`` on CPU, ``nccl`` on CUDA),
2. reads its own shard of every global batch (``coursekit.train.make_loader``
   does this by itself once the group exists),
3. wraps the model in ``DistributedDataParallel``, which averages the
   gradients of all copies during ``backward()``, so every copy takes the same
   optimizer step,
4. logs and saves only on rank 0 (:func:`is_main`).

With a per-process batch of ``B / N`` the N copies together see exactly the
global batch ``B`` of a single process, so the result matches one process up
to floating-point summation order.
"""

from __future__ import annotations

import os
from typing import Any


def is_initialized() -> bool:
    """Whether a ``torch.distributed`` process group is active."""
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


def rank_world() -> tuple[int, int]:
    """``(rank, world_size)`` of this process: ``(0, 1)`` when not distributed."""
    if not is_initialized():
        return 0, 1
    import torch.distributed as dist

    return dist.get_rank(), dist.get_world_size()


def is_main() -> bool:
    """True on rank 0 (or when not distributed): the process that logs and saves."""
    return rank_world()[0] == 0


def launched_by_torchrun() -> bool:
    """Whether ``torchrun`` (or ``accelerate launch``) set ``WORLD_SIZE`` for this process."""
    return "WORLD_SIZE" in os.environ and "RANK" in os.environ


def init(device: str | None = None) -> str:
    """Join the process group torchrun prepared; return this process's device string.

    ``nccl`` with one GPU per process (``cuda:LOCAL_RANK``) when CUDA is
    present, else ``gloo`` on the CPU. Without torchrun it does nothing and
    returns ``device`` (or the best local device).
    """
    import torch
    import torch.distributed as dist

    from coursekit import env

    if not launched_by_torchrun():
        return device or env.get_device()
    if is_initialized():
        return device or _local_device()
    use_cuda = torch.cuda.is_available() and (device is None or device.startswith("cuda"))
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return _local_device() if use_cuda else "cpu"


def _local_device() -> str:
    import torch

    if torch.cuda.is_available():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return "cpu"


def cleanup() -> None:
    """Leave the process group (safe to call when none is active)."""
    if is_initialized():
        import torch.distributed as dist

        dist.barrier()
        dist.destroy_process_group()


def barrier() -> None:
    """Wait for every process (no-op when not distributed)."""
    if is_initialized():
        import torch.distributed as dist

        dist.barrier()


def wrap(model: Any, device: Any) -> Any:
    """``DistributedDataParallel(model)`` when distributed, else ``model`` unchanged."""
    if rank_world()[1] == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    index = getattr(device, "index", None)
    return DistributedDataParallel(
        model, device_ids=[index] if getattr(device, "type", "cpu") == "cuda" else None
    )


def all_reduce_sum(values: list[float]) -> list[float]:
    """Sum each number over all processes (identity when not distributed)."""
    if rank_world()[1] == 1:
        return list(values)
    import torch
    import torch.distributed as dist

    backend = dist.get_backend()
    device = (
        torch.device("cuda", torch.cuda.current_device())
        if backend == "nccl"
        else torch.device("cpu")
    )
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return [float(v) for v in t.cpu()]
