"""Figures used across chapters. Each function draws on a Matplotlib Axes and returns it."""

import matplotlib.pyplot as plt
import numpy as np
import torch


def _axes(ax, figsize=(5, 4)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_history(history: dict, keys=None, *, ax=None, logy: bool = False):
    """Learning curves: one line per history key (e.g. ``train_loss``, ``val_loss``)."""
    ax = _axes(ax)
    keys = keys or [k for k in history if k.endswith("loss")]
    missing = [k for k in keys if k not in history]
    if missing:
        raise KeyError(f"history has no {missing}; it has {sorted(history)}")
    for key in keys:
        ax.plot(range(1, len(history[key]) + 1), history[key], label=key)
    ax.set(xlabel="epoch", ylabel="value", yscale="log" if logy else "linear")
    ax.legend()
    return ax


def plot_decision_boundary(
    predict, X, y, *, ax=None, resolution: int = 200, margin: float = 0.5, title: str | None = None
):
    """Colour the plane by ``predict`` (a function from (M, 2) tensors to labels) and overlay data.

    ``predict`` receives float32 CPU tensors; move them to a model's device inside it if needed.
    """
    X = torch.as_tensor(X).detach().cpu()
    y = torch.as_tensor(y).detach().cpu()
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2) for a 2-D boundary, got {tuple(X.shape)}")
    ax = _axes(ax)
    lo, hi = X.min(0).values - margin, X.max(0).values + margin
    xs = torch.linspace(lo[0], hi[0], resolution)
    ys = torch.linspace(lo[1], hi[1], resolution)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    with torch.no_grad():
        z = torch.as_tensor(predict(grid)).detach().cpu().reshape(gx.shape)
    ax.contourf(gx.numpy(), gy.numpy(), z.float().numpy(), alpha=0.3, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=20)
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=title)
    return ax


def image_grid(images, labels=None, *, nrow: int = 8, cmap: str = "gray"):
    """Show a batch of images (N, H, W) or (N, C, H, W) as one grid, with optional labels."""
    images = torch.as_tensor(images).detach().cpu().float()
    if images.ndim == 4:
        images = images.permute(0, 2, 3, 1)
        if images.shape[-1] == 1:
            images = images[..., 0]
    if images.ndim not in (3, 4):
        raise ValueError(f"images must be (N, H, W) or (N, C, H, W), got {tuple(images.shape)}")
    n = images.shape[0]
    ncol = min(nrow, n)
    nrows = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrows, ncol, figsize=(1.2 * ncol, 1.3 * nrows), squeeze=False)
    for i, axis in enumerate(axes.flat):
        axis.axis("off")
        if i < n:
            axis.imshow(images[i].numpy(), cmap=cmap)
            if labels is not None:
                axis.set_title(str(labels[i]), fontsize=8)
    fig.tight_layout()
    return axes
