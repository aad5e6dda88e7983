"""Tensor datasets as (X, y) pairs, splits and mini-batches."""

from typing import NamedTuple

import torch

from ..device import seeded


class Split(NamedTuple):
    """One part of a dataset: inputs ``X`` (N, ...) and targets ``y`` (N, ...)."""

    X: torch.Tensor
    y: torch.Tensor

    def to(self, device) -> "Split":
        return Split(self.X.to(device), self.y.to(device))


def check_pair(X: torch.Tensor, y: torch.Tensor) -> None:
    """Raise a clear error unless X and y are tensors with the same number of rows."""
    for name, t in (("X", X), ("y", y)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}; they must match")


def train_val_test_split(X, y, *, val: float = 0.2, test: float = 0.2, seed: int = 0):
    """Shuffle once with ``seed`` and cut into train / validation / test Splits.

    ``val`` and ``test`` are fractions of the whole; the rest is training data.
    """
    check_pair(X, y)
    if not (0 <= val < 1 and 0 < test < 1 and val + test < 1):
        raise ValueError(f"need 0 <= val, 0 < test and val + test < 1; got val={val}, test={test}")
    n = X.shape[0]
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seeded(seed)))
    n_test, n_val = round(test * n), round(val * n)
    test_idx, val_idx, train_idx = (
        order[:n_test],
        order[n_test : n_test + n_val],
        order[n_test + n_val :],
    )
    return tuple(Split(X[i], y[i]) for i in (train_idx, val_idx, test_idx))


def batches(X, y, batch_size: int, *, shuffle: bool = False, generator=None):
    """Yield (X_batch, y_batch) slices; the data stay on whatever device they are on."""
    check_pair(X, y)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    n = X.shape[0]
    if shuffle:
        order = torch.randperm(n, generator=generator).to(X.device)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            yield X[idx], y[idx]
    else:
        for start in range(0, n, batch_size):
            yield X[start : start + batch_size], y[start : start + batch_size]
