"""Graph neural networks from scratch: Deep Sets, message passing, GCN and GAT layers, readout.

Graphs are given as node features x (N, F) and an ``edge_index`` (2, E) of directed edges
source -> target; a node receives messages along its incoming edges. Many graphs are processed
at once as one disconnected graph plus a ``batch`` vector (see ``course_lib.data.graphs``).
"""

import torch
from torch import nn

from ..data.graphs import check_edge_index
from ..validation import check_same_dtype, check_tensor

REDUCTIONS = ("sum", "mean", "max")


# ----------------------------------------------------------------------------- sets
def pool(x: torch.Tensor, reduce: str = "sum", dim: int = -2, mask=None) -> torch.Tensor:
    """Order-invariant pooling over ``dim``: sum, mean or max; ``mask`` (same shape minus the
    feature dim) marks the real elements of padded sets."""
    if reduce not in REDUCTIONS:
        raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}")
    if mask is not None:
        m = mask.unsqueeze(-1).to(x.dtype)
        if reduce == "max":
            x = x.masked_fill(m == 0, float("-inf"))
        else:
            x = x * m
    if reduce == "sum":
        return x.sum(dim)
    if reduce == "mean":
        count = x.shape[dim] if mask is None else m.sum(dim).clamp(min=1)
        return x.sum(dim) / count
    return x.max(dim).values


class DeepSets(nn.Module):
    """f(X) = phi( POOL_i psi(x_i) ): invariant to the order of the set's elements.

    Input (B, n, d) with an optional mask (B, n) for sets padded to a common size n.
    """

    def __init__(self, psi: nn.Module, phi: nn.Module, reduce: str = "sum"):
        super().__init__()
        if reduce not in REDUCTIONS:
            raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}")
        self.psi, self.phi, self.reduce = psi, phi, reduce

    def forward(self, x: torch.Tensor, mask=None) -> torch.Tensor:
        if x.ndim != 3:
            raise ValueError(f"x must have shape (batch, set size, features), got {tuple(x.shape)}")
        return self.phi(pool(self.psi(x), self.reduce, dim=1, mask=mask))


# ----------------------------------------------------------------------------- message passing
def aggregate(messages: torch.Tensor, index: torch.Tensor, num_nodes: int, reduce: str = "sum"):
    """out[v] = REDUCE over {messages[k] : index[k] = v}; nodes without messages get 0."""
    if reduce not in REDUCTIONS:
        raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}")
    if messages.shape[0] != index.shape[0]:
        raise ValueError(f"{messages.shape[0]} messages but {index.shape[0]} target indices")
    out = messages.new_zeros((num_nodes,) + tuple(messages.shape[1:]))
    idx = index.view(-1, *([1] * (messages.ndim - 1))).expand_as(messages)
    if reduce == "sum":
        return out.scatter_add(0, idx, messages)
    return out.scatter_reduce(
        0, idx, messages, reduce="amax" if reduce == "max" else "mean", include_self=False
    )


def message_passing(
    x: torch.Tensor, edge_index: torch.Tensor, reduce: str = "sum", edge_weight=None
) -> torch.Tensor:
    """One round: every node collects its in-neighbours' features, h_v = REDUCE_{u->v} w_uv x_u."""
    check_edge_index(edge_index, x.shape[0])
    source, target = edge_index
    messages = x[source]
    if edge_weight is not None:
        messages = messages * edge_weight.unsqueeze(-1)
    return aggregate(messages, target, x.shape[0], reduce)


def add_self_loops(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """edge_index with one edge v -> v appended for every node (the A + I of GCN)."""
    loops = torch.arange(num_nodes, device=edge_index.device).repeat(2, 1)
    return torch.cat([edge_index, loops], dim=1)


def gcn_norm_dense(A: torch.Tensor) -> torch.Tensor:
    """A_hat = D^-1/2 (A + I) D^-1/2, D the diagonal degree matrix of A + I (its row sums).

    Row v of A_hat @ H mixes the nodes that A[v] points to; for ``GCNLayer``'s convention on a
    directed graph (aggregate in-neighbours) pass the transpose of ``to_dense_adjacency``.

    Its rows do not sum to one in general (only D^-1 (A + I) does); it is symmetric when A is.
    """
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be a square (N, N) matrix, got shape {tuple(A.shape)}")
    A = A + torch.eye(A.shape[0], device=A.device, dtype=A.dtype)
    d_inv_sqrt = A.sum(1).pow(-0.5)
    return d_inv_sqrt[:, None] * A * d_inv_sqrt[None, :]


def gcn_norm(edge_index: torch.Tensor, num_nodes: int, dtype=torch.float32):
    """Sparse form of ``gcn_norm_dense``: (edge_index with self-loops, weights 1/sqrt(d_u d_v))."""
    check_edge_index(edge_index, num_nodes)
    edge_index = add_self_loops(edge_index, num_nodes)
    source, target = edge_index
    deg = torch.zeros(num_nodes, device=edge_index.device, dtype=dtype).index_add_(
        0, target, torch.ones_like(target, dtype=dtype)
    )
    weight = deg[source].rsqrt() * deg[target].rsqrt()
    return edge_index, weight


class GCNLayer(nn.Module):
    """Graph convolution (Kipf and Welling): H' = D^-1/2 (A + I) D^-1/2 H W + b,

    with A[v, u] = 1 for every edge u -> v: node v sums its *in*-neighbours, and d_v counts
    the edges entering v (plus its self-loop), as PyTorch Geometric's ``GCNConv`` does. That A
    is the transpose of ``to_dense_adjacency(edge_index, N)`` (rows = sources), so the dense
    form is ``gcn_norm_dense(to_dense_adjacency(edge_index, N).T) @ H W + b``; for an
    undirected graph the transpose changes nothing.

    Computed sparsely: transform every node (H W), pass the results along the edges with
    weights 1/sqrt(d_u d_v), sum at each node, then add the bias. Same parameters as PyTorch
    Geometric's ``GCNConv``: ``lin.weight`` (out, in) and ``bias`` (out,).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.lin = nn.Linear(in_features, out_features, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """``x`` (N, in_features) node features, ``edge_index`` (2, E) -> (N, out_features)."""
        check_tensor("x", x, shape=(None, self.lin.in_features), dtype="floating")
        check_same_dtype(x=x, weight=self.lin.weight)
        edge_index, weight = gcn_norm(edge_index, x.shape[0], x.dtype)
        out = message_passing(self.lin(x), edge_index, "sum", edge_weight=weight)
        return out if self.bias is None else out + self.bias


def segment_softmax(scores: torch.Tensor, index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Softmax of ``scores`` within each group of equal ``index`` (the edges entering a node)."""
    shape = (num_nodes,) + tuple(scores.shape[1:])
    idx = index.view(-1, *([1] * (scores.ndim - 1))).expand_as(scores)
    group_max = scores.new_full(shape, float("-inf")).scatter_reduce(0, idx, scores, "amax")
    exp = (scores - group_max[index]).exp()  # subtract the group's max: no overflow
    total = scores.new_zeros(shape).scatter_add(0, idx, exp)
    return exp / total[index]


class GATLayer(nn.Module):
    """Graph attention (Velickovic et al.), one head:

        z_i = W h_i,   e_ij = LeakyReLU(a_dst . z_i + a_src . z_j)   for edges j -> i and j = i,
        alpha_ij = softmax over j of e_ij,   h'_i = sum_j alpha_ij z_j + b.

    ``forward`` returns h'; the attention of the last call is kept in ``self.attention`` with
    the matching ``self.attention_edges`` (2, E + N), for plotting.
    """

    def __init__(self, in_features: int, out_features: int, negative_slope: float = 0.2):
        super().__init__()
        self.lin = nn.Linear(in_features, out_features, bias=False)
        self.att_src = nn.Parameter(torch.empty(out_features))
        self.att_dst = nn.Parameter(torch.empty(out_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.negative_slope = negative_slope
        bound = (6 / (out_features + 1)) ** 0.5  # Glorot, as for a (1, out) matrix
        nn.init.uniform_(self.att_src, -bound, bound)
        nn.init.uniform_(self.att_dst, -bound, bound)
        self.attention = self.attention_edges = None

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """``x`` (N, in_features) node features, ``edge_index`` (2, E) -> (N, out_features)."""
        check_tensor("x", x, shape=(None, self.lin.in_features), dtype="floating")
        check_same_dtype(x=x, weight=self.lin.weight)
        check_edge_index(edge_index, x.shape[0])
        edge_index = add_self_loops(edge_index[:, edge_index[0] != edge_index[1]], x.shape[0])
        source, target = edge_index
        z = self.lin(x)
        scores = nn.functional.leaky_relu(
            (z * self.att_dst).sum(-1)[target] + (z * self.att_src).sum(-1)[source],
            self.negative_slope,
        )
        alpha = segment_softmax(scores, target, x.shape[0])
        self.attention, self.attention_edges = alpha.detach(), edge_index
        return message_passing(z, edge_index, "sum", edge_weight=alpha) + self.bias


# ----------------------------------------------------------------------------- models
def global_pool(x: torch.Tensor, batch: torch.Tensor, num_graphs=None, reduce: str = "mean"):
    """Readout: one vector per graph, REDUCE over the nodes i with batch[i] = g."""
    if batch.shape[0] != x.shape[0]:
        raise ValueError(f"batch has {batch.shape[0]} entries but x has {x.shape[0]} nodes")
    num_graphs = int(batch.max()) + 1 if num_graphs is None else num_graphs
    return aggregate(x, batch, num_graphs, reduce)


class GCN(nn.Module):
    """Node classifier: GCN layers with ReLU (and dropout) between them; returns logits."""

    def __init__(self, sizes, dropout: float = 0.0):
        super().__init__()
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least (in, out) widths, got {sizes}")
        self.layers = nn.ModuleList(
            GCNLayer(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, edge_index, return_hidden: bool = False):
        hidden = []
        for i, layer in enumerate(self.layers):
            x = layer(self.dropout(x), edge_index)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
                hidden.append(x)
        return (x, hidden) if return_hidden else x


class GraphClassifier(nn.Module):
    """Graph classifier: GCN layers, a readout over each graph's nodes, then a linear layer."""

    def __init__(
        self,
        in_features: int,
        hidden: int,
        num_classes: int,
        num_layers: int = 3,
        readout: str = "sum",
    ):
        super().__init__()
        sizes = [in_features] + [hidden] * num_layers
        self.layers = nn.ModuleList(
            GCNLayer(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.readout = readout
        self.head = nn.Linear(hidden * num_layers, num_classes)

    def forward(self, x, edge_index, batch, num_graphs=None):
        pooled = []
        for layer in self.layers:
            x = torch.relu(layer(x, edge_index))
            pooled.append(global_pool(x, batch, num_graphs, self.readout))
        return self.head(torch.cat(pooled, dim=1))  # read out every layer: 1- to k-hop views
