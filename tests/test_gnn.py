"""GNN layers from scratch against closed forms, dense references and PyTorch Geometric."""

import networkx as nx
import pytest
import torch

from course_lib.data.graphs import (
    Graph,
    batch_graphs,
    edge_index_from_networkx,
    karate_club,
    motif_graphs,
    stochastic_block_model,
    to_dense_adjacency,
    to_edge_index,
)
from course_lib.models.gnn import (
    DeepSets,
    GATLayer,
    GCNLayer,
    GraphClassifier,
    aggregate,
    gcn_norm,
    gcn_norm_dense,
    global_pool,
    message_passing,
    pool,
    segment_softmax,
)


def _random_graph(n=9, p=0.35, seed=0, features=4):
    G = nx.gnp_random_graph(n, p, seed=seed)
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, features, generator=g, dtype=torch.float64), edge_index_from_networkx(G)


def test_gcn_norm_dense_closed_form():
    A = torch.tensor([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=torch.float64)
    A_tilde = A + torch.eye(3, dtype=torch.float64)
    D = torch.diag(A_tilde.sum(1))
    expected = torch.linalg.inv(torch.sqrt(D)) @ A_tilde @ torch.linalg.inv(torch.sqrt(D))
    torch.testing.assert_close(gcn_norm_dense(A), expected)
    # symmetric normalisation does NOT make rows sum to one
    assert not torch.allclose(gcn_norm_dense(A).sum(1), torch.ones(3, dtype=torch.float64))


def test_gcn_layer_equals_closed_form():
    x, ei = _random_graph()
    layer = GCNLayer(4, 3).double()
    torch.nn.init.normal_(layer.bias)
    A = to_dense_adjacency(ei, x.shape[0]).double()
    expected = gcn_norm_dense(A) @ x @ layer.lin.weight.T + layer.bias
    torch.testing.assert_close(layer(x, ei), expected)


def test_sparse_norm_matches_dense():
    x, ei = _random_graph(seed=3)
    ei2, w = gcn_norm(ei, x.shape[0], torch.float64)
    dense = torch.zeros(x.shape[0], x.shape[0], dtype=torch.float64)
    dense[ei2[1], ei2[0]] = w
    torch.testing.assert_close(dense, gcn_norm_dense(to_dense_adjacency(ei, x.shape[0]).double()))


def test_message_passing_matches_sparse_matmul():
    x, ei = _random_graph(seed=1)
    n = x.shape[0]
    A_T = torch.sparse_coo_tensor(
        ei.flip(0), torch.ones(ei.shape[1], dtype=torch.float64), (n, n), check_invariants=True
    )
    torch.testing.assert_close(message_passing(x, ei, "sum"), torch.sparse.mm(A_T, x))
    # mean and max against a plain loop
    for reduce in ("mean", "max"):
        out = message_passing(x, ei, reduce)
        for v in range(n):
            nbrs = ei[0][ei[1] == v]
            if len(nbrs):
                ref = x[nbrs].mean(0) if reduce == "mean" else x[nbrs].max(0).values
                torch.testing.assert_close(out[v], ref)
            else:
                assert (out[v] == 0).all()


def test_segment_softmax_sums_to_one_per_node():
    scores = torch.randn(7, dtype=torch.float64) * 50
    index = torch.tensor([0, 0, 1, 2, 2, 2, 1])
    alpha = segment_softmax(scores, index, 3)
    torch.testing.assert_close(
        torch.zeros(3, dtype=torch.float64).index_add(0, index, alpha),
        torch.ones(3, dtype=torch.float64),
    )
    torch.testing.assert_close(alpha[:2], torch.softmax(scores[:2], 0))


def _gat_dense_reference(layer, x, ei):
    """GAT with a dense N x N masked softmax: what the sparse layer must reproduce."""
    n = x.shape[0]
    mask = to_dense_adjacency(ei, n).bool().T | torch.eye(n, dtype=torch.bool)  # mask[i, j]: j -> i
    z = layer.lin(x)
    e = torch.nn.functional.leaky_relu(
        (z @ layer.att_dst)[:, None] + (z @ layer.att_src)[None, :], layer.negative_slope
    )
    alpha = torch.softmax(e.masked_fill(~mask, float("-inf")), dim=1)
    return alpha @ z + layer.bias


def test_gat_layer_matches_dense_reference():
    x, ei = _random_graph(seed=2)
    layer = GATLayer(4, 5).double()
    torch.testing.assert_close(layer(x, ei), _gat_dense_reference(layer, x, ei))
    index = layer.attention_edges[1]
    sums = torch.zeros(x.shape[0], dtype=torch.float64).index_add(0, index, layer.attention)
    torch.testing.assert_close(sums, torch.ones_like(sums))


def _permute(x, ei, perm):
    """Relabel node perm[i] as i: features P x, edges mapped through the inverse permutation."""
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(len(perm))
    return x[perm], inverse[ei]


@pytest.mark.parametrize("make", [lambda: GCNLayer(4, 3), lambda: GATLayer(4, 3)])
def test_layers_are_permutation_equivariant(make):
    x, ei = _random_graph(seed=4)
    layer = make().double()
    perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(0))
    xp, eip = _permute(x, ei, perm)
    torch.testing.assert_close(layer(xp, eip), layer(x, ei)[perm])
    for reduce in ("sum", "mean", "max"):
        torch.testing.assert_close(
            message_passing(xp, eip, reduce), message_passing(x, ei, reduce)[perm]
        )


def test_readout_and_deepsets_are_permutation_invariant():
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    perm = torch.randperm(6)
    for reduce in ("sum", "mean", "max"):
        torch.testing.assert_close(pool(x[:, perm], reduce, dim=1), pool(x, reduce, dim=1))
    model = DeepSets(torch.nn.Linear(3, 8), torch.nn.Linear(8, 1)).double()
    torch.testing.assert_close(model(x[:, perm]), model(x))


def test_pool_mask_ignores_padding():
    x = torch.randn(1, 5, 2)
    mask = torch.tensor([[1, 1, 1, 0, 0]])
    for reduce in ("sum", "mean", "max"):
        torch.testing.assert_close(pool(x, reduce, dim=1, mask=mask), pool(x[:, :3], reduce, dim=1))


def test_batching_equals_graph_by_graph():
    graphs = motif_graphs(6, seed=1)
    x, ei, batch, y = batch_graphs(graphs)
    assert batch.tolist() == sum(([g] * gr.num_nodes for g, gr in enumerate(graphs)), [])
    torch.manual_seed(0)
    model = GraphClassifier(6, 8, 2).eval()
    together = model(x, ei, batch, len(graphs))
    for g, graph in enumerate(graphs):
        alone = model(graph.x, graph.edge_index, torch.zeros(graph.num_nodes, dtype=torch.long), 1)
        torch.testing.assert_close(together[g : g + 1], alone)
    A = to_dense_adjacency(ei, x.shape[0])
    assert A[batch[:, None] != batch[None, :]].sum() == 0  # block-diagonal


def test_global_pool_and_aggregate():
    x = torch.arange(10.0).reshape(5, 2)
    batch = torch.tensor([0, 0, 1, 1, 1])
    torch.testing.assert_close(
        global_pool(x, batch, reduce="sum"), torch.tensor([[2.0, 4.0], [18.0, 21.0]])
    )
    torch.testing.assert_close(
        global_pool(x, batch, reduce="max"), torch.tensor([[2.0, 3.0], [8.0, 9.0]])
    )
    with pytest.raises(ValueError, match="reduce"):
        aggregate(x, batch, 2, "median")


def test_data_generators():
    g, G = karate_club()
    assert (
        g.num_nodes == 34 and g.edge_index.shape == (2, 156) and g.y.bincount().tolist() == [17, 17]
    )
    sbm = stochastic_block_model((30, 30), p_in=0.2, p_out=0.01, seed=0)
    A = to_dense_adjacency(sbm.edge_index, 60)
    assert torch.equal(A, A.T) and A.diag().sum() == 0
    assert A[:30, :30].mean() > 5 * A[:30, 30:].mean()
    assert torch.equal(sbm.x, stochastic_block_model((30, 30), p_in=0.2, p_out=0.01, seed=0).x)
    graphs = motif_graphs(10)
    assert [int(gr.y) for gr in graphs] == [0, 1] * 5
    # both classes have the same numbers of edges relative to nodes: E = 2 (N - 5 + 6) - 2 + 2
    for gr in graphs:
        assert gr.edge_index.shape[1] == 2 * (gr.num_nodes - 5 - 1 + 6 + 1)
    torch.testing.assert_close(
        to_edge_index(to_dense_adjacency(g.edge_index, 34)).shape, g.edge_index.shape
    )


def test_bad_arguments():
    x, ei = _random_graph()
    with pytest.raises(ValueError, match="edge_index"):
        message_passing(x, ei + 100)
    with pytest.raises(TypeError, match="edge_index"):
        message_passing(x, ei.float())
    with pytest.raises(ValueError, match="square"):
        gcn_norm_dense(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="motif"):
        from course_lib.data.graphs import motif_graph

        motif_graph("triangle", 5, None)
    with pytest.raises(ValueError, match="x must have shape"):
        DeepSets(torch.nn.Identity(), torch.nn.Identity())(torch.zeros(3, 4))


def test_graph_to_device():
    g = Graph(torch.zeros(2, 1), torch.tensor([[0], [1]]), torch.tensor(0))
    assert g.to("cpu").num_nodes == 2


def test_gcn_layer_equals_pyg_gcnconv():
    pyg = pytest.importorskip("torch_geometric.nn")
    x, ei = _random_graph(seed=5)
    ours = GCNLayer(4, 3).double()
    torch.nn.init.normal_(ours.bias)
    ref = pyg.GCNConv(4, 3).double()
    with torch.no_grad():
        ref.lin.weight.copy_(ours.lin.weight)
        ref.bias.copy_(ours.bias)
    torch.testing.assert_close(ours(x, ei), ref(x, ei))


def test_gat_layer_equals_pyg_gatconv():
    pyg = pytest.importorskip("torch_geometric.nn")
    x, ei = _random_graph(seed=6)
    ours = GATLayer(4, 3).double()
    ref = pyg.GATConv(4, 3, heads=1).double()
    with torch.no_grad():
        lin = getattr(ref, "lin", None) or ref.lin_src  # renamed across PyG versions
        lin.weight.copy_(ours.lin.weight)
        ref.att_src.copy_(ours.att_src.view(1, 1, -1))
        ref.att_dst.copy_(ours.att_dst.view(1, 1, -1))
        ref.bias.copy_(ours.bias)
    torch.testing.assert_close(ours(x, ei), ref(x, ei))


def test_graph_plots_smoke():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.plot.graphs import draw_attention, draw_graph, graph_layout, plot_adjacency

    g, _ = karate_club()
    pos = graph_layout(g.edge_index, 34)
    ax, _ = draw_graph(g.edge_index, 34, node_color=g.y, pos=pos)
    assert ax.get_title() == ""
    with pytest.raises(ValueError, match="node_color"):
        draw_graph(g.edge_index, 34, node_color=g.y[:3])
    layer = GATLayer(34, 2)
    layer(g.x, g.edge_index)
    draw_attention(layer.attention_edges, layer.attention, 34, pos=pos)
    with pytest.raises(ValueError, match="attention"):
        draw_attention(g.edge_index, torch.ones(3), 34)
    plot_adjacency(to_dense_adjacency(g.edge_index, 34))
    plt.close("all")
