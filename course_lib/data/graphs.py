"""Offline graphs: Zachary's karate club and synthetic graph generators.

A graph is stored sparsely as an ``edge_index`` of shape (2, E): column k is the directed edge
edge_index[0, k] -> edge_index[1, k]. An undirected graph lists every edge in both directions.
"""

from typing import NamedTuple

import networkx as nx
import numpy as np
import torch

from ..device import seeded


class Graph(NamedTuple):
    """Node features ``x`` (N, F), ``edge_index`` (2, E) and labels ``y`` (per node or graph)."""

    x: torch.Tensor
    edge_index: torch.Tensor
    y: torch.Tensor

    @property
    def num_nodes(self) -> int:
        return self.x.shape[0]

    def to(self, device) -> "Graph":
        return Graph(self.x.to(device), self.edge_index.to(device), self.y.to(device))


def edge_index_from_networkx(G: nx.Graph) -> torch.Tensor:
    """(2, E) edge list of a networkx graph with nodes 0..N-1, both directions for undirected."""
    if sorted(G.nodes) != list(range(G.number_of_nodes())):
        raise ValueError(
            "G's nodes must be the integers 0..N-1 (use nx.convert_node_labels_to_integers)"
        )
    edges = list(G.edges())
    if not G.is_directed():
        edges = edges + [(v, u) for u, v in edges]
    if not edges:
        return torch.zeros(2, 0, dtype=torch.long)
    return torch.tensor(edges, dtype=torch.long).T.contiguous()


def to_dense_adjacency(
    edge_index: torch.Tensor, num_nodes: int, dtype=torch.float32
) -> torch.Tensor:
    """Dense adjacency A (N, N) with A[i, j] = 1 for every edge i -> j (rows = sources)."""
    check_edge_index(edge_index, num_nodes)
    A = torch.zeros(num_nodes, num_nodes, dtype=dtype, device=edge_index.device)
    A[edge_index[0], edge_index[1]] = 1.0
    return A


def to_edge_index(A: torch.Tensor) -> torch.Tensor:
    """Sparse (2, E) edge list of the non-zero entries of a dense adjacency matrix."""
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be a square (N, N) matrix, got shape {tuple(A.shape)}")
    return A.nonzero().T.contiguous()


def check_edge_index(edge_index: torch.Tensor, num_nodes: int) -> None:
    """Raise a clear error unless edge_index is a (2, E) integer tensor of nodes in 0..N-1."""
    if not isinstance(edge_index, torch.Tensor) or edge_index.dtype != torch.long:
        raise TypeError("edge_index must be a torch.long tensor of shape (2, E)")
    if edge_index.ndim != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index must have shape (2, E), got {tuple(edge_index.shape)}")
    if edge_index.numel() and (edge_index.min() < 0 or edge_index.max() >= num_nodes):
        raise ValueError(f"edge_index refers to nodes outside 0..{num_nodes - 1}")


def karate_club() -> tuple:
    """Zachary's karate club: returns (Graph, networkx graph).

    34 members, 78 friendships; ``y`` is the club each member joined after the split
    (0 = Mr. Hi's, 1 = the officer's). ``x`` is the identity matrix (one-hot node ids), so a
    model can only learn from the graph's structure.
    """
    G = nx.karate_club_graph()
    y = torch.tensor([0 if G.nodes[v]["club"] == "Mr. Hi" else 1 for v in G.nodes])
    x = torch.eye(G.number_of_nodes())
    return Graph(x, edge_index_from_networkx(G), y), G


def stochastic_block_model(
    sizes=(40, 40, 40),
    *,
    p_in: float = 0.15,
    p_out: float = 0.01,
    num_features: int = 16,
    noise: float = 2.0,
    seed: int = 0,
) -> Graph:
    """Communities with more edges inside than between, and noisy node features.

    Nodes of community c are linked with probability ``p_in`` to each other and ``p_out`` to
    the rest. A node's features are its community's random mean vector (entries +-1) plus
    Gaussian noise of standard deviation ``noise``: alone they identify the community poorly,
    together with the neighbours' features well.
    """
    if not (0 <= p_out <= 1 and 0 <= p_in <= 1):
        raise ValueError(f"p_in and p_out must be probabilities, got {p_in} and {p_out}")
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes must list at least two positive community sizes, got {sizes}")
    k = len(sizes)
    probs = [[p_in if i == j else p_out for j in range(k)] for i in range(k)]
    G = nx.stochastic_block_model(list(sizes), probs, seed=seeded(seed))
    rng = np.random.default_rng(seeded(seed))
    y = np.repeat(np.arange(k), sizes)
    means = rng.choice([-1.0, 1.0], size=(k, num_features))
    x = means[y] + noise * rng.standard_normal((len(y), num_features))
    return Graph(torch.tensor(x, dtype=torch.float32), edge_index_from_networkx(G), torch.tensor(y))


MOTIFS = {"house": nx.house_graph, "k23": lambda: nx.complete_bipartite_graph(2, 3)}


def motif_graph(motif: str, base_nodes: int, rng) -> nx.Graph:
    """A random tree of ``base_nodes`` nodes with a 5-node motif attached by one edge."""
    if motif not in MOTIFS:
        raise ValueError(f"motif must be one of {sorted(MOTIFS)}, got {motif!r}")
    base = nx.random_labeled_tree(base_nodes, seed=int(rng.integers(2**31)))
    G = nx.disjoint_union(base, MOTIFS[motif]())
    G.add_edge(int(rng.integers(base_nodes)), base_nodes + int(rng.integers(5)))
    return G


def degree_features(edge_index: torch.Tensor, num_nodes: int, max_degree: int = 5):
    """One-hot in-degree of every node, degrees above ``max_degree`` lumped together."""
    deg = torch.bincount(edge_index[1], minlength=num_nodes).clamp(max=max_degree)
    return torch.nn.functional.one_hot(deg, max_degree + 1).float()


def motif_graphs(num_graphs: int = 400, *, base_nodes=(8, 16), seed: int = 0) -> list:
    """A graph-classification set: random trees carrying a "house" (label 0) or K_{2,3} (1).

    Both motifs have 5 nodes, 6 edges and the same degrees (3, 3, 2, 2, 2); the house has a
    triangle and its two degree-3 nodes are neighbours, K_{2,3} has neither. Node features are
    one-hot degrees (``degree_features``), so counting nodes, edges or degrees cannot tell the
    classes apart: the model must see how the motif is wired. Labels alternate 0, 1, 0, ...
    """
    if num_graphs < 2:
        raise ValueError(f"num_graphs must be at least 2, got {num_graphs}")
    lo, hi = base_nodes
    if not 1 <= lo <= hi:
        raise ValueError(
            f"base_nodes must be a range (lo, hi) with 1 <= lo <= hi, got {base_nodes}"
        )
    rng = np.random.default_rng(seeded(seed))
    graphs = []
    for i in range(num_graphs):
        label = i % 2
        G = motif_graph("k23" if label else "house", int(rng.integers(lo, hi + 1)), rng)
        edge_index = edge_index_from_networkx(G)
        x = degree_features(edge_index, G.number_of_nodes())
        graphs.append(Graph(x, edge_index, torch.tensor(label)))
    return graphs


def batch_graphs(graphs) -> tuple:
    """Merge graphs into one big disconnected graph: returns (x, edge_index, batch, y).

    Node ids of graph g are shifted by the number of nodes before it; ``batch[i]`` is the graph
    that node i belongs to. The adjacency matrix of the result is block-diagonal.
    """
    graphs = list(graphs)
    if not graphs:
        raise ValueError("graphs must contain at least one Graph")
    xs, edges, batch, offset = [], [], [], 0
    for g, graph in enumerate(graphs):
        xs.append(graph.x)
        edges.append(graph.edge_index + offset)
        batch.append(torch.full((graph.num_nodes,), g, dtype=torch.long, device=graph.x.device))
        offset += graph.num_nodes
    y = torch.stack([torch.as_tensor(graph.y) for graph in graphs])
    return torch.cat(xs), torch.cat(edges, dim=1), torch.cat(batch), y
