"""The ring of Gaussians: a 2-D mixture used to watch GANs cover (or collapse onto) modes."""

import math

import torch


def ring_centers(modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The ``modes`` centres r (cos(2 pi k / modes), sin(2 pi k / modes)), shape (modes, 2)."""
    if not isinstance(modes, int) or modes < 1:
        raise ValueError(f"modes must be a positive int, got {modes!r}")
    angles = torch.arange(modes, dtype=torch.float32) * (2 * math.pi / modes)
    return radius * torch.stack([angles.cos(), angles.sin()], dim=1)


def ring_of_gaussians(
    n: int, *, modes: int = 8, radius: float = 2.0, std: float = 0.05, generator=None
):
    """Return (X, k): n points from an equal mixture of ``modes`` Gaussians on a circle.

    Each point picks a mode k uniformly, then X = centre_k + std * eps with eps ~ N(0, I).
    X is float32 of shape (n, 2); k (int64, shape (n,)) says which mode each point came from.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if std < 0:
        raise ValueError(f"std must be >= 0, got {std}")
    centers = ring_centers(modes, radius)
    k = torch.randint(modes, (n,), generator=generator)
    return centers[k] + std * torch.randn(n, 2, generator=generator), k
