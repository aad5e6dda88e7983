"""Synthetic scenes built from small images: objects at random places on a noisy background."""

import torch

from ..device import seeded


def place_on_canvas(images: torch.Tensor, size: int = 12, *, noise: float = 0.4, seed: int = 0):
    """Paste each (C, h, w) image at a random position of a size x size canvas of noise.

    The background is uniform noise in [0, noise]; the object is combined with it by a pixel-wise
    maximum, so bright strokes stay bright. Returns (canvases of shape (N, C, size, size),
    offsets of shape (N, 2) giving each object's top-left row and column). The same ``seed``
    gives the same scenes.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must have shape (N, C, h, w), got {shape}")
    n, c, h, w = images.shape
    if not isinstance(size, int) or size < max(h, w):
        raise ValueError(f"size must be an int >= the image size {max(h, w)}, got {size!r}")
    if not 0 <= noise <= 1:
        raise ValueError(f"noise must be in [0, 1], got {noise}")
    g = torch.Generator().manual_seed(seeded(seed))
    canvas = noise * torch.rand(n, c, size, size, generator=g)
    rows = torch.randint(0, size - h + 1, (n,), generator=g)
    cols = torch.randint(0, size - w + 1, (n,), generator=g)
    src = images.detach().cpu().to(canvas.dtype)
    # one vectorised paste per distinct offset (at most (size - h + 1) * (size - w + 1) of them)
    for r in rows.unique().tolist():
        for col in cols.unique().tolist():
            idx = ((rows == r) & (cols == col)).nonzero().flatten()
            if len(idx):
                patch = canvas[idx, :, r : r + h, col : col + w]
                canvas[idx, :, r : r + h, col : col + w] = torch.maximum(patch, src[idx])
    return canvas.to(images.device), torch.stack([rows, cols], dim=1)
