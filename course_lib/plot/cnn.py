"""Figures for convolutional networks: filters, feature maps, saliency, convolution arithmetic."""

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle

from ..models.autoencoder import conv_output_size


def _grid(n, ncol, size=1.1):
    ncol = max(1, min(ncol, n))
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(size * ncol, size * nrow + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes


def _numpy(t):
    return torch.as_tensor(t).detach().cpu().float().numpy()


def show_filters(weight, *, ncol: int = 10, title: str = "first-layer filters"):
    """Draw each filter w[o, 0] of a (C_out, C_in, k, k) weight, red > 0 > blue.

    Every filter has its own symmetric colour scale (|w| max), so its pattern is visible
    whatever its norm; only the first input channel is drawn.
    """
    w = _numpy(weight)
    if w.ndim != 4:
        raise ValueError(f"weight must have shape (C_out, C_in, k, k), got {w.shape}")
    fig, axes = _grid(len(w), ncol)
    for o, ax in zip(range(len(w)), axes.flat, strict=False):
        lim = np.abs(w[o, 0]).max() or 1.0
        ax.imshow(w[o, 0], cmap="bwr", vmin=-lim, vmax=lim)
    fig.suptitle(title, fontsize=10)
    return fig


def show_feature_maps(maps, *, ncol: int = 10, title: str = "feature maps", cmap="viridis"):
    """Draw the channels of one feature-map tensor (C, H, W), each with its own scale."""
    m = _numpy(maps)
    if m.ndim != 3:
        raise ValueError(f"maps must have shape (C, H, W) for one image, got {m.shape}")
    fig, axes = _grid(len(m), ncol)
    for c, ax in zip(range(len(m)), axes.flat, strict=False):
        ax.imshow(m[c], cmap=cmap)
    fig.suptitle(title, fontsize=10)
    return fig


def show_saliency(images, saliency, titles=None):
    """Images (N, 1, H, W) on the top row, their saliency maps (N, H, W) below."""
    x, s = _numpy(images), _numpy(saliency)
    if x.ndim != 4 or s.shape != (x.shape[0], *x.shape[2:]):
        raise ValueError(
            f"need images (N, C, H, W) and saliency (N, H, W); got {x.shape} and {s.shape}"
        )
    n = len(x)
    fig, axes = plt.subplots(2, n, figsize=(1.6 * n, 3.4), squeeze=False)
    for k in range(n):
        axes[0, k].imshow(x[k, 0], cmap="gray_r")
        axes[1, k].imshow(s[k], cmap="hot")
        if titles is not None:
            axes[0, k].set_title(str(titles[k]), fontsize=8)
        for ax in axes[:, k]:
            ax.axis("off")
    axes[0, 0].text(-0.1, 0.5, "input", transform=axes[0, 0].transAxes, ha="right", va="center")
    axes[1, 0].text(-0.1, 0.5, "saliency", transform=axes[1, 0].transAxes, ha="right", va="center")
    return fig


def draw_conv_arithmetic(i: int = 5, k: int = 3, s: int = 1, p: int = 0, *, ax=None):
    """Draw an i x i input (grey) inside its zero padding p (white), the first kernel window
    (blue) and the top-left corner of every window (dots); the title gives
    o = floor((i + 2p - k) / s) + 1 and says when the windows do not tile the input exactly."""
    if min(i, k, s) < 1 or p < 0:
        raise ValueError(f"need i, k, s >= 1 and p >= 0, got i={i}, k={k}, s={s}, p={p}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4.4))
    n = i + 2 * p
    for r in range(n):
        for c in range(n):
            inside = p <= r < p + i and p <= c < p + i
            colour = "0.75" if inside else "white"
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor=colour, edgecolor="0.4", lw=0.6))
    if k > n:
        ax.set_title(f"kernel {k} > padded input {n}: no output", fontsize=10)
    else:
        o = conv_output_size(i, k, s, p)
        window = Rectangle((0, 0), k, k, facecolor="tab:blue", alpha=0.35, edgecolor="tab:blue")
        ax.add_patch(window)
        corners = np.arange(o) * s + 0.5
        cx, cy = np.meshgrid(corners, corners)
        ax.plot(cx.ravel(), cy.ravel(), "o", color="tab:red", ms=4)
        rest = (n - k) % s
        note = "" if rest == 0 else f"\n(last {rest} row(s)/col(s) never covered)"
        ax.set_title(
            f"o = floor(({i} + 2*{p} - {k}) / {s}) + 1 = {o}  ->  {o} x {o}{note}", fontsize=10
        )
    ax.set_xlim(-0.2, n + 0.2)
    ax.set_ylim(n + 0.2, -0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def _signed(v):
    return f"({v:g})" if v < 0 else f"{v:g}"


def draw_conv_step(image, kernel, step: int = 0):
    """One step of a sliding-window cross-correlation (stride 1, no padding).

    ``image`` (H, W) and ``kernel`` (k, k); output position ``step`` (row-major) is
    y[i, j] = sum_{a, b} K[a, b] x[i + a, j + b]. Draws the input with the window in blue,
    the kernel, and the output filled up to this step, with the products summed in the title.
    """
    x, w = _numpy(image), _numpy(kernel)
    if x.ndim != 2 or w.ndim != 2 or w.shape[0] != w.shape[1] or w.shape[0] > min(x.shape):
        raise ValueError(f"need a 2-D image and a smaller square kernel, got {x.shape}, {w.shape}")
    k = w.shape[0]
    oh, ow = x.shape[0] - k + 1, x.shape[1] - k + 1
    if not 0 <= step < oh * ow:
        raise ValueError(f"step must be in 0..{oh * ow - 1}, got {step}")
    i, j = divmod(step, ow)
    y = np.full((oh, ow), np.nan)
    for s in range(step + 1):
        r, c = divmod(s, ow)
        y[r, c] = (x[r : r + k, c : c + k] * w).sum()
    fig, axes = plt.subplots(
        1, 3, figsize=(10, 3.6), gridspec_kw={"width_ratios": [x.shape[1], k, ow]}
    )
    panels = ((x, "input x"), (w, "kernel K"), (y, "output y"))
    for ax, (m, name) in zip(axes, panels, strict=True):
        ax.imshow(np.zeros(m.shape), cmap="Greys", vmin=0, vmax=1)  # a blank grid
        for (r, c), v in np.ndenumerate(m):
            if not np.isnan(v):
                ax.text(c, r, f"{v:g}", ha="center", va="center", fontsize=9)
        ax.set_xticks(np.arange(m.shape[1] + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(m.shape[0] + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="0.6")
        ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
        ax.set_title(name, fontsize=10)
    axes[0].add_patch(
        Rectangle((j - 0.5, i - 0.5), k, k, facecolor="tab:blue", alpha=0.25, edgecolor="tab:blue")
    )
    axes[2].add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="tab:red", alpha=0.3))
    terms = " + ".join(
        f"{_signed(w[a, b])}*{_signed(x[i + a, j + b])}"
        for a in range(k)
        for b in range(k)
        if w[a, b] != 0
    )
    fig.suptitle(f"y[{i},{j}] = {terms} = {y[i, j]:g}", fontsize=9)
    return fig
