"""Figures for evaluating classifiers."""

import matplotlib.pyplot as plt
import numpy as np
import torch


def plot_confusion_matrix(
    cm, *, class_names=None, normalize: bool = False, ax=None, title: str | None = None
):
    """Heat map of a confusion matrix C[i, j] (true class i, predicted class j), with counts.

    ``normalize=True`` divides each row by its total, so the diagonal shows per-class recall.
    """
    cm = torch.as_tensor(cm).detach().cpu().double()
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square (C, C) matrix, got shape {tuple(cm.shape)}")
    c = cm.shape[0]
    names = [str(i) for i in range(c)] if class_names is None else list(class_names)
    if len(names) != c:
        raise ValueError(f"class_names has {len(names)} names for {c} classes")
    values = cm / cm.sum(1, keepdim=True).clamp(min=1) if normalize else cm
    if ax is None:
        _, ax = plt.subplots(figsize=(0.5 * c + 2.5, 0.5 * c + 2))
    im = ax.imshow(values.numpy(), cmap="Blues")
    ax.figure.colorbar(im, ax=ax, fraction=0.046)
    ax.set(
        xticks=np.arange(c),
        yticks=np.arange(c),
        xticklabels=names,
        yticklabels=names,
        xlabel="predicted class",
        ylabel="true class",
        title=title,
    )
    top = values.max().item() or 1.0
    for i in range(c):
        for j in range(c):
            v = values[i, j].item()
            text = f"{v:.2f}" if normalize else f"{int(v)}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=7,
                color="white" if v > 0.6 * top else "black",
            )
    return ax
