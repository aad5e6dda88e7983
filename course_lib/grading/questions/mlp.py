"""Visible checks for chapter 03 (multilayer perceptrons and backpropagation)."""

import numpy as np

from ..checks import case


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _silu(x):
    return x * _sigmoid(x)


# ----------------------------------------------------------------------------- mlp.silu_grad
@case(
    "mlp.silu_grad", hint="SiLU(x) = x * sigmoid(x): use the product rule, and sigmoid' = s(1-s)."
)
def silu_grad_at_zero_is_one_half(fn):
    out = np.asarray(fn(np.array([0.0])), dtype=float)
    assert out.shape == (1,), f"expected an array of shape (1,), got shape {out.shape}"
    assert abs(out[0] - 0.5) < 1e-9, "the derivative at x = 0 is not right"


@case("mlp.silu_grad", hint="Work element-wise with NumPy so that any array shape works.")
def silu_grad_keeps_the_shape(fn):
    out = np.asarray(fn(np.zeros((3, 4))))
    assert out.shape == (3, 4), f"input of shape (3, 4) gave output of shape {out.shape}"


@case("mlp.silu_grad", hint="Compare with a finite difference (f(x+h) - f(x-h)) / 2h.")
def silu_grad_matches_a_finite_difference(fn):
    x = np.array([-3.0, -0.7, 0.4, 2.5])
    h = 1e-6
    numeric = (_silu(x + h) - _silu(x - h)) / (2 * h)
    out = np.asarray(fn(x), dtype=float)
    assert np.allclose(out, numeric, atol=1e-6), "values differ from a finite-difference estimate"


# ----------------------------------------------------------------------------- mlp.linear_backward
def _linear_case(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(5, 4)), rng.normal(size=(5, 3)), rng.normal(size=(4, 3))


@case("mlp.linear_backward", hint="Return three arrays (dX, dW, db), each shaped like X, W and b.")
def linear_backward_shapes(fn):
    dY, X, W = _linear_case()
    out = fn(dY, X, W)
    assert isinstance(out, tuple) and len(out) == 3, "return a tuple (dX, dW, db)"
    shapes = tuple(np.shape(o) for o in out)
    assert shapes == ((5, 3), (4, 3), (4,)), f"shapes {shapes}; expected X's, W's and b's shapes"


@case("mlp.linear_backward", hint="Y = X W^T + b adds b to every row: its gradient sums over rows.")
def linear_backward_bias(fn):
    dY, X, W = _linear_case(1)
    _, _, db = fn(dY, X, W)
    assert np.allclose(db, dY.sum(axis=0)), "db is wrong"


@case(
    "mlp.linear_backward",
    hint="Check one entry with the chain rule: Y[i, o] = sum_k X[i, k] W[o, k].",
)
def linear_backward_one_sample(fn):
    dY = np.array([[1.0, -2.0]])
    X = np.array([[3.0, 0.5, -1.0]])
    W = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]])
    dX, dW, _ = fn(dY, X, W)
    assert np.allclose(dX, [[1.0, -2.0, 4.0]]), "dX is wrong for a single example"
    assert np.allclose(dW, [[3.0, 0.5, -1.0], [-6.0, -1.0, 2.0]]), (
        "dW is wrong for a single example"
    )


# ----------------------------------------------------------------------------- mlp.backprop_step
def _step_case(seed=0, zero=False):
    rng = np.random.default_rng(seed)
    params = {
        "W1": rng.normal(size=(6, 4)) * 0.5,
        "b1": rng.normal(size=6) * 0.1,
        "W2": rng.normal(size=(3, 6)) * 0.5,
        "b2": rng.normal(size=3) * 0.1,
    }
    if zero:
        params = {k: np.zeros_like(v) for k, v in params.items()}
    X, y = rng.normal(size=(8, 4)), rng.integers(0, 3, size=8)
    return params, X, y


@case(
    "mlp.backprop_step", hint="Return (loss, new_params); new_params has the same keys and shapes."
)
def backprop_step_returns_loss_and_params(fn):
    params, X, y = _step_case()
    out = fn({k: v.copy() for k, v in params.items()}, X, y, 0.1)
    assert isinstance(out, tuple) and len(out) == 2, "return a tuple (loss, new_params)"
    loss, new = out
    assert float(np.asarray(loss)) > 0, "the cross-entropy loss is positive"
    assert isinstance(new, dict) and set(new) == set(params), (
        "new_params must have keys W1, b1, W2, b2"
    )
    for k in params:
        assert np.shape(new[k]) == params[k].shape, f"new_params[{k!r}] has the wrong shape"


@case(
    "mlp.backprop_step",
    hint="With all weights 0 the logits are 0: every class has probability 1/K.",
)
def backprop_step_loss_at_zero_weights(fn):
    params, X, y = _step_case(zero=True)
    loss, _ = fn(params, X, y, 0.1)
    assert abs(float(loss) - np.log(3)) < 1e-9, "the loss at zero weights is not right"


@case(
    "mlp.backprop_step", hint="Take the *mean* loss over the batch and step *against* the gradient."
)
def backprop_step_decreases_the_loss(fn):
    params, X, y = _step_case(1)
    losses = []
    for _ in range(20):
        loss, params = fn(params, X, y, 0.5)
        losses.append(float(loss))
    assert losses[-1] < losses[0] - 0.05, "twenty steps did not reduce the loss"
