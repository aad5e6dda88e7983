"""Visible checks for chapter 16 (graph neural networks)."""

import torch

from ..checks import case


# ----------------------------------------------------------------------------- gnn.sym_norm
@case("gnn.sym_norm", hint="Return an (N, N) tensor, the same shape as A.")
def sym_norm_shape(fn):
    out = fn(torch.zeros(4, 4))
    assert tuple(out.shape) == (4, 4), f"an (4, 4) input gave shape {tuple(out.shape)}"


@case("gnn.sym_norm", hint="Add the self-loops (A + I) before counting degrees.")
def sym_norm_two_connected_nodes(fn):
    out = fn(torch.tensor([[0.0, 1.0], [1.0, 0.0]]))
    assert torch.allclose(out, torch.full((2, 2), 0.5)), "wrong values for two linked nodes"


@case("gnn.sym_norm", hint="An isolated node has degree 1 once its self-loop is added.")
def sym_norm_isolated_nodes(fn):
    out = fn(torch.zeros(3, 3))
    assert torch.allclose(out, torch.eye(3)), "wrong values for a graph without edges"


@case("gnn.sym_norm", hint="Scale entry (i, j) by 1/sqrt(d_i d_j), not by 1/d_i.")
def sym_norm_is_symmetric(fn):
    A = torch.tensor([[0, 1, 1, 1], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]], dtype=torch.float)
    out = fn(A)
    assert torch.allclose(out, out.T, atol=1e-6), "the result is not symmetric"


# ----------------------------------------------------------------------------- gnn.message_step
@case("gnn.message_step", hint="The output has one row per node and the features' width.")
def message_step_shape(fn):
    x = torch.randn(5, 3)
    edge_index = torch.tensor([[0, 1], [1, 2]])
    out = fn(x, edge_index)
    assert tuple(out.shape) == (5, 3), f"expected shape (5, 3), got {tuple(out.shape)}"


@case(
    "gnn.message_step",
    hint="Edge k goes from edge_index[0, k] (source) to edge_index[1, k] (target).",
)
def message_step_direction(fn):
    x = torch.tensor([[1.0], [10.0], [100.0]])
    out = fn(x, torch.tensor([[0, 1], [1, 2]]))  # edges 0 -> 1 and 1 -> 2
    assert torch.allclose(out, torch.tensor([[0.0], [1.0], [10.0]])), "messages go the wrong way"


@case("gnn.message_step", hint="A node with two incoming edges adds both messages.")
def message_step_sums(fn):
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]])
    out = fn(x, torch.tensor([[0, 1], [2, 2]]))
    assert torch.allclose(out[2], torch.tensor([4.0, 6.0])), "incoming messages are not summed"


# ----------------------------------------------------------------------------- gnn.mean_readout
@case("gnn.mean_readout", hint="Return one row per graph: shape (num_graphs, F).")
def mean_readout_shape(fn):
    out = fn(torch.randn(6, 4), torch.tensor([0, 0, 1, 1, 1, 2]), 3)
    assert tuple(out.shape) == (3, 4), f"expected shape (3, 4), got {tuple(out.shape)}"


@case("gnn.mean_readout", hint="With a single graph the readout is the mean over all nodes.")
def mean_readout_single_graph(fn):
    x = torch.randn(5, 2)
    out = fn(x, torch.zeros(5, dtype=torch.long), 1)
    assert torch.allclose(out, x.mean(0, keepdim=True), atol=1e-6), "wrong for a single graph"


@case("gnn.mean_readout", hint="Divide each graph's sum by that graph's own number of nodes.")
def mean_readout_two_graphs(fn):
    x = torch.tensor([[1.0], [3.0], [10.0]])
    out = fn(x, torch.tensor([0, 0, 1]), 2)
    assert torch.allclose(out, torch.tensor([[2.0], [10.0]])), (
        "wrong for two graphs of sizes 2 and 1"
    )
