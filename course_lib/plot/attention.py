"""Static attention figures (Matplotlib): they render everywhere, unlike JavaScript views."""

import matplotlib.pyplot as plt
import numpy as np
import torch


def _as_array(weights):
    if isinstance(weights, torch.Tensor):
        weights = weights.detach().float().cpu().numpy()
    weights = np.asarray(weights)
    if weights.ndim != 2:
        raise ValueError(f"weights must be a 2-D (queries, keys) matrix, got shape {weights.shape}")
    return weights


def attention_heatmap(
    weights,
    keys=None,
    queries=None,
    *,
    ax=None,
    title="attention",
    annotate: bool = False,
    cmap="viridis",
    vmax=None,
):
    """Draw one (queries x keys) weight matrix; row i shows where query i looks.

    ``keys``/``queries`` are tick labels (tokens); ``queries`` defaults to ``keys``.
    """
    w = _as_array(weights)
    queries = keys if queries is None else queries
    for name, labels, n in (("keys", keys, w.shape[1]), ("queries", queries, w.shape[0])):
        if labels is not None and len(labels) != n:
            raise ValueError(f"{name} has {len(labels)} labels for {n} {name}")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.35 * w.shape[1] + 2, 0.35 * w.shape[0] + 1.5))
    im = ax.imshow(w, cmap=cmap, vmin=0, vmax=vmax, aspect="auto")
    if keys is not None:
        ax.set_xticks(range(w.shape[1]), keys, rotation=90, fontsize=8)
    if queries is not None:
        ax.set_yticks(range(w.shape[0]), queries, fontsize=8)
    if annotate:
        for i in range(w.shape[0]):
            for j in range(w.shape[1]):
                ax.text(
                    j,
                    i,
                    f"{w[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if w[i, j] < 0.5 * (vmax or w.max()) else "black",
                )
    ax.set_xlabel("key (attended to)")
    ax.set_ylabel("query")
    ax.set_title(title)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return ax


def attention_grid(
    attentions, tokens=None, *, layers=None, heads=None, size: float = 2.2, suptitle=None
):
    """One panel per (layer, head); ``attentions`` lists (h, T, T) or (1, h, T, T) per layer."""
    mats = []
    for a in attentions:
        a = a.detach().float().cpu() if isinstance(a, torch.Tensor) else torch.as_tensor(a)
        if a.dim() == 4:
            a = a[0]
        if a.dim() != 3:
            raise ValueError(
                f"each layer's attention must be (h, T, T) or (1, h, T, T), got {tuple(a.shape)}"
            )
        mats.append(a)
    layers = range(len(mats)) if layers is None else layers
    heads = range(mats[0].shape[0]) if heads is None else heads
    fig, axes = plt.subplots(
        len(layers), len(heads), figsize=(size * len(heads), size * len(layers)), squeeze=False
    )
    for r, layer in enumerate(layers):
        for c, head in enumerate(heads):
            ax = axes[r, c]
            ax.imshow(mats[layer][head].numpy(), cmap="viridis", vmin=0)
            ax.set_title(f"layer {layer}, head {head}", fontsize=8)
            if tokens is not None and len(tokens) <= 24:
                ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=6)
                ax.set_yticks(range(len(tokens)), tokens, fontsize=6)
            else:
                ax.set_xticks([])
                ax.set_yticks([])
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def mask_pattern(mask, *, ax=None, title="mask"):
    """Show a boolean mask: dark = may attend, light = blocked."""
    m = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(m, cmap="Greys", vmin=0, vmax=1)
    ax.set_xlabel("key j")
    ax.set_ylabel("query i")
    ax.set_title(title)
    return ax
