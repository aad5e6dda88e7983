"""The scalar autodiff engine against torch.autograd."""

import math

import pytest
import torch

from course_lib.autodiff import Value, edges, topological_order


def test_chain_rule_example():
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    f = (x + y) * z
    f.backward()
    assert f.data == -12.0
    assert (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)


def _expression(a, b, c, ops):
    """The same expression for Values and for torch tensors."""
    d = a * b + c**2 - a / c
    e = ops["tanh"](d) + ops["sigmoid"](a - b) * ops["exp"](c * 0.3)
    g = ops["relu"](e + 1.0) + ops["log"](b * b + 1.0) - 2.0 * a
    return g * e + 3.0 / (1.0 + b**2)


def test_matches_torch_autograd():
    vals = (0.7, -1.3, 2.1)
    va, vb, vc = (Value(v) for v in vals)
    out = _expression(
        va,
        vb,
        vc,
        {
            "tanh": Value.tanh,
            "sigmoid": Value.sigmoid,
            "exp": Value.exp,
            "relu": Value.relu,
            "log": Value.log,
        },
    )
    out.backward()
    ta, tb, tc = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in vals)
    ref = _expression(
        ta,
        tb,
        tc,
        {
            "tanh": torch.tanh,
            "sigmoid": torch.sigmoid,
            "exp": torch.exp,
            "relu": torch.relu,
            "log": torch.log,
        },
    )
    ref.backward()
    assert math.isclose(out.data, ref.item(), rel_tol=1e-12)
    for v, t in ((va, ta), (vb, tb), (vc, tc)):
        assert math.isclose(v.grad, t.grad.item(), rel_tol=1e-10, abs_tol=1e-12)


def test_reused_node_accumulates_gradient():
    x = Value(3.0)
    y = x * x + x  # x appears three times
    y.backward()
    assert y.grad == 1.0 and x.grad == 7.0


def test_backward_twice_gives_same_grad():
    x = Value(2.0)
    y = (x * x).exp()
    y.backward()
    first = x.grad
    y.backward()
    assert x.grad == pytest.approx(first)


def test_neuron_matches_torch():
    xs, ws, b = [0.5, -1.0, 2.0], [0.1, 0.4, -0.3], 0.2
    vw = [Value(w) for w in ws]
    vb = Value(b)
    out = sum((w * x for w, x in zip(vw, xs, strict=True)), vb).tanh()
    out.backward()
    tw = torch.tensor(ws, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    torch.tanh(tw @ torch.tensor(xs, dtype=torch.float64) + tb).backward()
    torch.testing.assert_close(torch.tensor([w.grad for w in vw], dtype=torch.float64), tw.grad)
    assert vb.grad == pytest.approx(tb.grad.item())


def test_topological_order_and_edges():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    order = topological_order(d)
    assert order.index(a) < order.index(c) < order.index(d)
    assert len(edges(d)) == 4


def test_deep_graph_no_recursion_error():
    x = Value(0.5)
    y = x
    for _ in range(5000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


def test_bad_input():
    with pytest.raises(TypeError, match="data"):
        Value("3")
    with pytest.raises(ValueError, match="log"):
        Value(-1.0).log()
    with pytest.raises(TypeError, match="exponent"):
        Value(2.0) ** Value(2.0)


def test_plot_computation_graph_smoke():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.plot.mlp import plot_activation, plot_computation_graph

    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    f = (x * y).tanh()
    f.backward()
    ax = plot_computation_graph(f)
    assert len(ax.texts) == 4 + 3  # boxes x, y, *, tanh and three arrows (annotations)
    plot_activation("elu", alpha=0.5)
    with pytest.raises(TypeError, match="root"):
        plot_computation_graph(3.0)
    plt.close("all")
