"""Figures for optimisation: contour maps of 2-D functions with optimizer paths on top."""

import matplotlib.pyplot as plt
import numpy as np
import torch


def plot_paths(
    f,
    paths: dict,
    *,
    xlim=(-2, 2),
    ylim=(-1, 3),
    ax=None,
    levels=30,
    logscale=True,
    title=None,
    resolution=200,
):
    """Contours of ``f`` (a function of a (..., 2) tensor) with one line per path.

    ``paths`` maps a label to a (T, 2) tensor of iterates. With ``logscale`` the contour levels
    are spaced evenly in log(f - min + 1e-3), which shows both the valley floor and the walls.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    xs = torch.linspace(*xlim, resolution, dtype=torch.float64)
    ys = torch.linspace(*ylim, resolution, dtype=torch.float64)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    z = f(torch.stack([gx, gy], dim=-1)).detach()
    if logscale:
        z = torch.log(z - z.min() + 1e-3)
    ax.contour(gx.numpy(), gy.numpy(), z.numpy(), levels=levels, cmap="viridis", linewidths=0.6)
    for label, path in paths.items():
        p = torch.as_tensor(path).detach().cpu().double().numpy()
        p = p[np.all(np.isfinite(p), axis=1)]
        ax.plot(p[:, 0], p[:, 1], ".-", ms=3, lw=1, label=label)
    ax.set(xlim=xlim, ylim=ylim, xlabel="$w_1$", ylabel="$w_2$", title=title)
    if paths:
        ax.legend(fontsize=8, loc="best")
    return ax
