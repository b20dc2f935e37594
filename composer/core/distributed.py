"""Training on several processes with PyTorch's own engine (DistributedDataParallel).

``torchrun --nproc_per_node=N -m composer train ...`` starts N copies of the trainer; each finds its rank
in the environment torchrun sets. Every rank builds the same shuffled, transposed token stream from the
shared seed and trains on its own share of the batch's columns; gradients are averaged across ranks
(gloo on CPU, nccl on GPU), so N ranks with batch B learn exactly what one process with batch B would.
Only rank 0 writes files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Shard:
    """This process's place among the training processes."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1


SINGLE = Shard()


def init_from_environment(device_name: str) -> tuple[Shard, torch.device | None]:
    """Join the process group if torchrun started this process (``WORLD_SIZE`` > 1).

    Args:
        device_name: the training config's device (``auto``, ``cpu``, ``cuda``...).

    Returns:
        (this process's shard, the device it must use, or None to let the caller pick).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return SINGLE, None
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device_name != "cpu" and torch.cuda.is_available()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    if use_cuda:
        torch.cuda.set_device(local_rank)
        return Shard(rank, world, local_rank), torch.device("cuda", local_rank)
    return Shard(rank, world, local_rank), torch.device("cpu")


def all_reduce_sum(values: list[float], shard: Shard) -> list[float]:
    """Element-wise sums of ``values`` over all ranks (the values themselves when alone)."""
    if not shard.active:
        return values
    device = torch.device("cuda", shard.local_rank) if dist.get_backend() == "nccl" else torch.device("cpu")
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def main_number(value: float, shard: Shard) -> float:
    """Rank 0's ``value`` on every rank (for numbers that hang on the clock)."""
    if not shard.active:
        return value
    device = torch.device("cuda", shard.local_rank) if dist.get_backend() == "nccl" else torch.device("cpu")
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.broadcast(tensor, src=0)
    return float(tensor.item())


def main_decides(flag: bool, shard: Shard) -> bool:
    """Rank 0's value of ``flag`` on every rank (for decisions that hang on the clock)."""
    if not shard.active:
        return flag
    device = torch.device("cuda", shard.local_rank) if dist.get_backend() == "nccl" else torch.device("cpu")
    tensor = torch.tensor([1 if flag else 0], device=device)
    dist.broadcast(tensor, src=0)
    return bool(tensor.item())


def barrier(shard: Shard) -> None:
    if shard.active:
        dist.barrier()


def wrap(model: torch.nn.Module, shard: Shard, device: torch.device) -> torch.nn.Module:
    """The module to train: DistributedDataParallel around ``model`` when there are several ranks."""
    if not shard.active:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def shutdown(shard: Shard) -> None:
    """Leave the process group once every rank is done (gloo aborts if a peer leaves while another
    is still saving)."""
    if shard.active and dist.is_initialized():
        try:
            dist.barrier()
        finally:
            dist.destroy_process_group()
