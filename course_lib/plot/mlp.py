"""Figures for multilayer perceptrons: computation graphs and activation functions."""

import matplotlib.pyplot as plt
import numpy as np

from ..activations import get_activation
from ..autodiff import Value, topological_order


def plot_computation_graph(root: Value, *, ax=None, show_grad: bool = True):
    """Draw the graph that computed ``root``: inputs on the left, the output on the right.

    Each box shows the node's label or operation, its value and (after ``root.backward()``)
    its gradient d(root)/d(node).
    """
    if not isinstance(root, Value):
        raise TypeError(f"root must be a course_lib.autodiff.Value, got {type(root).__name__}")
    order = topological_order(root)
    depth = {}
    for node in order:  # parents come first, so their depth is known
        depth[id(node)] = 1 + max((depth[id(p)] for p in node.parents), default=-1)
    columns = {}
    for node in order:
        columns.setdefault(depth[id(node)], []).append(node)
    pos = {}
    for d, nodes in columns.items():
        for i, node in enumerate(nodes):
            pos[id(node)] = (d, i - (len(nodes) - 1) / 2)
    if ax is None:
        n_cols, n_rows = len(columns), max(len(v) for v in columns.values())
        _, ax = plt.subplots(figsize=(2.1 * n_cols + 1, 1.1 * n_rows + 1))
    for node in order:
        for p in node.parents:
            ax.annotate(
                "",
                xy=pos[id(node)],
                xytext=pos[id(p)],
                arrowprops=dict(arrowstyle="->", color="gray", shrinkA=28, shrinkB=28),
            )
    for node in order:
        name = node.label or node.op or "const"
        text = f"{name}\n{node.data:.3g}"
        if show_grad:
            text += f"\ngrad {node.grad:.3g}"
        leaf = not node.parents
        ax.text(
            *pos[id(node)],
            text,
            ha="center",
            va="center",
            fontsize=8,
            bbox=dict(boxstyle="round", fc="#dbe9f6" if leaf else "#fde8c8", ec="gray"),
        )
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    ax.set(xlim=(min(xs) - 0.6, max(xs) + 0.6), ylim=(min(ys) - 0.8, max(ys) + 0.8))
    ax.axis("off")
    return ax


def plot_activation(name: str, *, ax=None, x_range=(-5.0, 5.0), **kwargs):
    """Plot an activation f(x) and its derivative f'(x) from ``course_lib.activations``.

    Extra keyword arguments (``slope`` for leaky_relu, ``alpha`` for elu) go to f and f'.
    """
    f, df = get_activation(name)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    x = np.linspace(*x_range, 501)
    ax.plot(x, f(x, **kwargs), label=f"{name}(x)")
    ax.plot(x, df(x, **kwargs), "--", label=f"{name}'(x)")
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set(xlabel="x", title=name)
    ax.legend()
    return ax
