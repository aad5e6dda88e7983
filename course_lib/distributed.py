"""Data-parallel training with ``torch.distributed``, small enough to run on a laptop.

``train_data_parallel`` starts ``world_size`` processes on this machine (the gloo backend,
talking over the loopback interface). Each process holds a full copy of the model and its own
shard of every batch; after ``backward`` DistributedDataParallel all-reduces the gradients, so
every copy applies the same averaged gradient

    g = (1/P) sum_p grad L_p,    L_p = mean loss on shard p,

which equals the gradient of the mean loss over the combined batch when the shards are equal.
"""

import os
import socket
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn import functional as F

from .device import seeded


def make_model(seed: int = 0) -> nn.Module:
    """The small MLP both trainings start from (same seed, same initial weights)."""
    torch.manual_seed(seeded(seed))
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shard(batch: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Rows rank, rank + P, rank + 2P, ... of a batch (what a distributed sampler does)."""
    return batch[rank::world_size]


def _worker(rank, world_size, port, X, y, steps, batch_size, lr, out_path):
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        torch.set_num_threads(1)
        model = nn.parallel.DistributedDataParallel(make_model())
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        for step in range(steps):
            start = (step * batch_size) % (len(X) - batch_size + 1)
            xb = shard(X[start : start + batch_size], rank, world_size)
            yb = shard(y[start : start + batch_size], rank, world_size)
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()  # DDP all-reduces (averages) the gradients here
            optimizer.step()
        if rank == 0:
            torch.save(model.module.state_dict(), out_path)
    finally:
        dist.destroy_process_group()


def train_data_parallel(
    X, y, *, world_size: int = 2, steps: int = 50, batch_size: int = 64, lr: float = 0.1
) -> dict:
    """Train ``make_model()`` with DDP in ``world_size`` CPU processes; return rank 0's weights."""
    if batch_size % world_size:
        raise ValueError(
            f"batch_size ({batch_size}) must be divisible by world_size ({world_size})"
        )
    with tempfile.TemporaryDirectory() as tmp:
        out_path = Path(tmp) / "rank0.pt"
        mp.spawn(
            _worker,
            args=(world_size, free_port(), X.cpu(), y.cpu(), steps, batch_size, lr, out_path),
            nprocs=world_size,
            join=True,
        )
        return torch.load(out_path)


def train_single_process(X, y, *, steps: int = 50, batch_size: int = 64, lr: float = 0.1) -> dict:
    """The same training in one process on the combined batches, for comparison."""
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for step in range(steps):
        start = (step * batch_size) % (len(X) - batch_size + 1)
        loss = F.cross_entropy(model(X[start : start + batch_size]), y[start : start + batch_size])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.state_dict()
