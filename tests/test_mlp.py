"""NumPy activations, losses and MLP backprop against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import activations as A
from course_lib.models.mlp import (
    bce_with_logits,
    count_parameters,
    init_mlp,
    linear_backward,
    loss_and_grads,
    make_mlp,
    mlp_forward,
    mse_loss,
    numerical_gradient,
    relative_error,
    softmax_cross_entropy,
    to_torch,
    torch_grads,
)

TORCH_FN = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
    "gelu": F.gelu,
    "identity": lambda t: t * 1.0,
}
# avoid x = 0 exactly, where ReLU-like functions have a kink
X_GRID = np.concatenate([np.linspace(-6, -1e-3, 101), np.linspace(1e-3, 6, 101)])


@pytest.mark.parametrize("name", sorted(A.ACTIVATIONS))
def test_activation_and_derivative_match_torch(name):
    f, df = A.get_activation(name)
    t = torch.tensor(X_GRID, requires_grad=True)
    out = TORCH_FN[name](t)
    out.sum().backward()
    np.testing.assert_allclose(f(X_GRID), out.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(df(X_GRID), t.grad.numpy(), rtol=1e-8, atol=1e-12)


def test_softmax_and_its_backward_match_torch():
    rng = np.random.default_rng(0)
    z, g = rng.normal(size=(5, 4)) * 3, rng.normal(size=(5, 4))
    t = torch.tensor(z, requires_grad=True)
    s = torch.softmax(t, dim=1)
    (s * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(A.softmax(z), s.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(A.softmax_backward(z, g), t.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert np.isfinite(A.softmax(np.array([1000.0, 0.0]))).all()


def test_unknown_activation():
    with pytest.raises(ValueError, match="activation"):
        A.get_activation("swishy")


def test_losses_match_torch():
    rng = np.random.default_rng(1)
    z, labels = rng.normal(size=(6, 3)), rng.integers(0, 3, size=6)
    for ours, ref, target in [
        (softmax_cross_entropy, lambda t: F.cross_entropy(t, torch.tensor(labels)), labels),
        (
            bce_with_logits,
            lambda t: F.binary_cross_entropy_with_logits(
                t, torch.tensor(z > 0.2, dtype=torch.float64)
            ),
            (z > 0.2).astype(float),
        ),
        (mse_loss, lambda t: F.mse_loss(t, torch.tensor(np.tanh(z))), np.tanh(z)),
    ]:
        t = torch.tensor(z, requires_grad=True)
        value = ref(t)
        value.backward()
        loss, grad = ours(z, target)
        assert loss == pytest.approx(value.item(), rel=1e-12)
        np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_loss_bad_shapes():
    with pytest.raises(ValueError, match="labels"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="same shape"):
        mse_loss(np.zeros(3), np.zeros(4))


def test_linear_backward_matches_autograd():
    rng = np.random.default_rng(2)
    X, W, b, dY = (
        rng.normal(size=(5, 3)),
        rng.normal(size=(4, 3)),
        rng.normal(size=4),
        rng.normal(size=(5, 4)),
    )
    tX, tW, tb = (torch.tensor(a, requires_grad=True) for a in (X, W, b))
    (F.linear(tX, tW, tb) * torch.tensor(dY)).sum().backward()
    for ours, ref in zip(linear_backward(dY, X, W), (tX, tW, tb), strict=True):
        np.testing.assert_allclose(ours, ref.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "gelu", "elu"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_mlp_backprop_matches_autograd(activation, loss):
    rng = np.random.default_rng(3)
    params = init_mlp([4, 7, 5, 3], seed=3)
    for k in params:  # non-zero biases so that they are tested too
        params[k] = params[k] + 0.1 * rng.normal(size=params[k].shape)
    X = rng.normal(size=(8, 4))
    y = rng.integers(0, 3, size=8) if loss == "cross_entropy" else rng.normal(size=(8, 3))
    value, grads = loss_and_grads(params, X, y, loss=loss, activation=activation)
    model = to_torch(params, activation)
    out = model(torch.tensor(X))
    ref = (
        F.cross_entropy(out, torch.tensor(y))
        if loss == "cross_entropy"
        else F.mse_loss(out, torch.tensor(y))
    )
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-12)
    assert relative_error(grads, torch_grads(model)) < 1e-12


def test_mlp_backprop_matches_finite_differences():
    rng = np.random.default_rng(4)
    params = init_mlp([3, 5, 4, 2], seed=4)
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, size=6)
    _, grads = loss_and_grads(params, X, y, activation="tanh")
    numeric = numerical_gradient(lambda p: loss_and_grads(p, X, y, activation="tanh")[0], params)
    assert relative_error(grads, numeric) < 1e-7


def test_minibatch_gradient_is_mean_of_per_example_gradients():
    rng = np.random.default_rng(5)
    params = init_mlp([3, 6, 3], seed=5)
    X, y = rng.normal(size=(10, 3)), rng.integers(0, 3, size=10)
    _, batch = loss_and_grads(params, X, y)
    singles = [loss_and_grads(params, X[i : i + 1], y[i : i + 1])[1] for i in range(10)]
    mean = {k: np.mean([g[k] for g in singles], axis=0) for k in batch}
    assert relative_error(batch, mean) < 1e-12


def test_forward_shapes_and_errors():
    params = init_mlp([4, 3, 2])
    out, cache = mlp_forward(params, np.zeros((5, 4)))
    assert out.shape == (5, 2) and len(cache) == 2
    with pytest.raises(ValueError, match="X must have shape"):
        mlp_forward(params, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="sizes"):
        init_mlp([4])
    with pytest.raises(TypeError, match="params"):
        mlp_forward({"A": 1}, np.zeros((1, 4)))


def test_count_parameters():
    assert count_parameters(make_mlp([20, 64, 64, 10])) == 6154
    assert count_parameters(init_mlp([20, 64, 64, 10])) == 6154
    shared = torch.nn.Linear(10, 10)
    model = torch.nn.Sequential(torch.nn.Linear(20, 10), shared, shared, torch.nn.Linear(10, 1))
    assert count_parameters(model) == 331
    with pytest.raises(TypeError, match="model"):
        count_parameters([1, 2])


def test_make_mlp_structure():
    model = make_mlp([2, 3, 1], "tanh")
    assert len(model) == 3 and isinstance(model[1], torch.nn.Tanh)
    with pytest.raises(ValueError, match="activation"):
        make_mlp([2, 1], "nope")
