"""Small helpers for drawing inputs in the specs."""

import torch


def randn(g, *shape, dtype=torch.float32, scale=1.0):
    return torch.randn(*shape, generator=g, dtype=dtype) * scale


def randint(g, low, high, *shape):
    return torch.randint(low, high, shape, generator=g)


def uniform(g, *shape):
    return torch.rand(*shape, generator=g)


def integer(g, low, high) -> int:
    return int(torch.randint(low, high, (1,), generator=g))


def real(g, low=-1.0, high=1.0) -> float:
    return float(low + (high - low) * torch.rand(1, generator=g))
