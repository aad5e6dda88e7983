"""Figures for graphs: drawings coloured by node values, attention on edges, adjacency heatmaps."""

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import torch


def _as_networkx(edge_index, num_nodes):
    G = nx.Graph()
    G.add_nodes_from(range(num_nodes))
    G.add_edges_from(torch.as_tensor(edge_index).cpu().T.tolist())
    G.remove_edges_from(nx.selfloop_edges(G))
    return G


def graph_layout(edge_index, num_nodes: int, seed: int = 0) -> dict:
    """Fixed spring-layout positions {node: (x, y)}, so that several drawings line up."""
    return nx.spring_layout(_as_networkx(edge_index, num_nodes), seed=seed)


def draw_graph(
    edge_index,
    num_nodes: int,
    *,
    node_color=None,
    pos=None,
    ax=None,
    cmap="coolwarm",
    vmin=None,
    vmax=None,
    labels: bool = True,
    node_size: int = 220,
    edgecolors=None,
    title: str | None = None,
):
    """Draw an undirected graph given as a (2, E) edge list, nodes coloured by ``node_color``.

    ``node_color`` holds one number per node (a class, a prediction, a feature value).
    ``edgecolors`` (one colour per node) outlines nodes, e.g. to mark wrong predictions.
    """
    G = _as_networkx(edge_index, num_nodes)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    pos = pos or nx.spring_layout(G, seed=0)
    colors = "#9ecae1" if node_color is None else np.asarray(torch.as_tensor(node_color).cpu())
    if node_color is not None and len(colors) != num_nodes:
        raise ValueError(f"node_color has {len(colors)} entries for {num_nodes} nodes")
    nx.draw_networkx_edges(G, pos, ax=ax, alpha=0.4)
    nodes = nx.draw_networkx_nodes(
        G,
        pos,
        ax=ax,
        node_color=colors,
        cmap=None if node_color is None else cmap,
        vmin=vmin,
        vmax=vmax,
        node_size=node_size,
        edgecolors=edgecolors if edgecolors is not None else "k",
        linewidths=1.0 if edgecolors is None else 2.5,
    )
    if labels:
        nx.draw_networkx_labels(G, pos, ax=ax, font_size=7)
    ax.set_title(title)
    ax.axis("off")
    return ax, nodes


def draw_attention(
    edge_index,
    attention,
    num_nodes: int,
    *,
    pos=None,
    ax=None,
    node_color=None,
    title: str | None = None,
):
    """Draw directed attention weights alpha_{j->i} as edge widths (self-loops are left out)."""
    edge_index = torch.as_tensor(edge_index).cpu()
    attention = torch.as_tensor(attention).detach().cpu()
    if attention.shape[0] != edge_index.shape[1]:
        raise ValueError(f"{attention.shape[0]} attention weights for {edge_index.shape[1]} edges")
    keep = edge_index[0] != edge_index[1]
    D = nx.DiGraph()
    D.add_nodes_from(range(num_nodes))
    D.add_edges_from(edge_index[:, keep].T.tolist())
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    pos = pos or nx.spring_layout(D.to_undirected(), seed=0)
    widths = (attention[keep] * 6).tolist()
    nx.draw_networkx_edges(
        D,
        pos,
        ax=ax,
        width=widths,
        edge_color=attention[keep].tolist(),
        edge_cmap=plt.cm.viridis,
        arrows=True,
        arrowsize=6,
        connectionstyle="arc3,rad=0.12",
        node_size=220,
    )
    nx.draw_networkx_nodes(
        D,
        pos,
        ax=ax,
        node_size=220,
        edgecolors="k",
        node_color="#dddddd" if node_color is None else node_color,
        cmap=None if node_color is None else "coolwarm",
    )
    nx.draw_networkx_labels(D, pos, ax=ax, font_size=7)
    ax.set_title(title)
    ax.axis("off")
    return ax


def plot_adjacency(A, *, ax=None, title: str = "adjacency matrix"):
    """Heatmap of a dense adjacency (or normalised adjacency) matrix."""
    A = torch.as_tensor(A).detach().cpu().float()
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    im = ax.imshow(A.numpy(), cmap="Greys")
    ax.set(title=title, xlabel="node j", ylabel="node i")
    plt.colorbar(im, ax=ax, fraction=0.046)
    return ax
