"""scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download)."""

import torch
from sklearn.datasets import load_digits as _sk_load_digits

from .split import train_val_test_split


def load_digits(*, images: bool = False, val: float = 0.15, test: float = 0.2, seed: int = 0):
    """Return (train, val, test) Splits of the digits, pixels scaled to [0, 1].

    ``images=False`` gives X of shape (N, 64); ``images=True`` gives (N, 1, 8, 8) for CNNs.
    Labels are int64 in 0..9. The split is fixed by ``seed``.
    """
    raw = _sk_load_digits()
    X = torch.tensor(raw.data, dtype=torch.float32) / 16.0
    if images:
        X = X.reshape(-1, 1, 8, 8)
    y = torch.tensor(raw.target, dtype=torch.long)
    return train_val_test_split(X, y, val=val, test=test, seed=seed)
