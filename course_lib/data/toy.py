"""Small 2-D classification sets for pictures of decision boundaries."""

import numpy as np
import torch
from sklearn import datasets as _sk

from ..device import seeded

TOY_SETS = ("blobs", "xor", "moons", "circles")


def toy_2d(name: str, n: int = 200, *, noise: float = 0.1, seed: int = 0):
    """Return (X, y): X float32 of shape (n, 2), y int64 labels in {0, 1}.

    ``blobs``: two Gaussian clouds (linearly separable for small noise);
    ``xor``: four clusters at (+-1, +-1), label = sign(x1) != sign(x2);
    ``moons`` and ``circles``: scikit-learn's interleaved half-moons and nested rings.
    ``noise`` is the standard deviation of the Gaussian jitter.
    """
    if name not in TOY_SETS:
        raise ValueError(f"unknown toy set {name!r}; choose one of {TOY_SETS}")
    if n < 4:
        raise ValueError(f"n must be at least 4, got {n}")
    rng = np.random.default_rng(seeded(seed))
    if name == "blobs":
        X, y = _sk.make_blobs(
            n, centers=[(-1.5, -1.0), (1.5, 1.0)], cluster_std=noise * 5, random_state=seeded(seed)
        )
    elif name == "xor":
        corners = rng.choice([-1.0, 1.0], size=(n, 2))
        X = corners + noise * rng.standard_normal((n, 2))
        y = (corners[:, 0] != corners[:, 1]).astype(int)
    elif name == "moons":
        X, y = _sk.make_moons(n, noise=noise, random_state=seeded(seed))
    else:
        X, y = _sk.make_circles(n, noise=noise, factor=0.5, random_state=seeded(seed))
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.long)
