"""Visible checks for the chapter 01 exercises (``check("linear_models.<name>", fn)``)."""

import torch
import torch.nn.functional as F

from ..checks import case


def _data(n=30, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.cat(
        [
            torch.ones(n, 1, dtype=torch.float64),
            torch.randn(n, d - 1, generator=g, dtype=torch.float64),
        ],
        1,
    )
    return X, g


# --- least_squares(X, y) -> w ---------------------------------------------------------------


@case("linear_models.least_squares", hint="solve the normal equations X^T X w = X^T y")
def recovers_exact_weights(fn):
    X, _ = _data()
    w_true = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    w = fn(X, X @ w_true)
    assert tuple(w.shape) == (3,), f"expected shape (3,), got {tuple(w.shape)}"
    assert torch.allclose(w, w_true, atol=1e-8), "noise-free data must give back the true weights"


@case(
    "linear_models.least_squares", hint="at the optimum the residual is orthogonal to X's columns"
)
def residual_orthogonal(fn):
    X, g = _data(seed=1)
    y = torch.randn(30, generator=g, dtype=torch.float64)
    w = fn(X, y)
    assert (X.T @ (y - X @ w)).abs().max() < 1e-8, "X^T (y - X w) is not zero: not the minimiser"


# --- logistic_gradient(X, y, w) -> grad -----------------------------------------------------


def _autograd_logistic(X, y, w):
    w = w.clone().requires_grad_()
    F.binary_cross_entropy_with_logits(X @ w, y).backward()
    return w.grad


@case("linear_models.logistic_gradient", hint="(1/N) X^T (sigmoid(X w) - y)")
def matches_autograd(fn):
    X, g = _data(n=40)
    y = (torch.rand(40, generator=g) < 0.5).double()
    w = torch.tensor([0.1, -0.3, 0.8], dtype=torch.float64)
    out = fn(X, y, w)
    assert tuple(out.shape) == (3,), f"expected shape (3,), got {tuple(out.shape)}"
    assert torch.allclose(out, _autograd_logistic(X, y, w), atol=1e-10), (
        "does not match the gradient of the mean binary cross-entropy"
    )


@case("linear_models.logistic_gradient", hint="the loss is a mean over examples, not a sum")
def independent_of_duplication(fn):
    X, g = _data(n=20)
    y = (torch.rand(20, generator=g) < 0.5).double()
    w = torch.zeros(3, dtype=torch.float64)
    a = fn(X, y, w)
    b = fn(torch.cat([X, X]), torch.cat([y, y]), w)
    assert torch.allclose(a, b, atol=1e-12), "duplicating the data changed the gradient"


@case(
    "linear_models.logistic_gradient", hint="the sign: descending the gradient must lower the loss"
)
def descent_direction(fn):
    X, g = _data(n=50)
    y = (X[:, 1] > 0).double()
    w = torch.zeros(3, dtype=torch.float64)

    def loss(v):
        return F.binary_cross_entropy_with_logits(X @ v, y)

    assert loss(w - 0.1 * fn(X, y, w)) < loss(w), (
        "a small step against your gradient raised the loss"
    )


# --- softmax_cross_entropy(logits, y) -> mean loss ------------------------------------------


@case("linear_models.softmax_cross_entropy", hint="mean over examples of -log softmax(s_i)[y_i]")
def matches_torch(fn):
    g = torch.Generator().manual_seed(0)
    S = torch.randn(8, 5, generator=g, dtype=torch.float64)
    y = torch.randint(0, 5, (8,), generator=g)
    out = fn(S, y)
    assert out.ndim == 0, f"expected a scalar tensor, got shape {tuple(out.shape)}"
    assert torch.allclose(out, F.cross_entropy(S, y), atol=1e-10), "wrong cross-entropy value"


@case("linear_models.softmax_cross_entropy", hint="subtract the row maximum before exponentiating")
def large_logits_stay_finite(fn):
    S = torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 800.0, 0.0]])
    y = torch.tensor([0, 2])
    out = fn(S, y)
    assert torch.isfinite(out), "got inf or nan for large logits: the computation overflows"
    assert torch.allclose(out.double(), F.cross_entropy(S.double(), y), rtol=1e-5), (
        "wrong value for large logits"
    )


@case("linear_models.softmax_cross_entropy", hint="softmax does not change if a constant is added")
def shift_invariant(fn):
    g = torch.Generator().manual_seed(3)
    S = torch.randn(6, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 4, (6,), generator=g)
    assert torch.allclose(fn(S, y), fn(S + 50.0, y), atol=1e-10), (
        "adding 50 to every logit changed the loss"
    )


# --- max_stable_lr(X) -> float --------------------------------------------------------------


@case("linear_models.max_stable_lr", hint="2 / the largest eigenvalue of X^T X / N")
def diagonal_design(fn):
    X = torch.tensor([[2.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    # X^T X / N = diag(1, 0.5)
    out = fn(X)
    assert isinstance(out, float), f"expected a Python float, got {type(out).__name__}"
    assert abs(out - 2.0) < 1e-9, "wrong step-size limit for a diagonal Hessian"


@case("linear_models.max_stable_lr", hint="gradient descent must converge just below the limit")
def separates_convergence(fn):
    X, g = _data(n=40)
    y = torch.randn(40, generator=g, dtype=torch.float64)
    lim = fn(X)
    for frac, should_converge in ((0.95, True), (1.05, False)):
        w = torch.zeros(3, dtype=torch.float64)
        for _ in range(400):
            w = w - frac * lim * X.T @ (X @ w - y) / 40
        ok = bool(torch.isfinite(w).all() and (X.T @ (X @ w - y)).abs().max() < 1e-6)
        assert ok == should_converge, (
            f"gradient descent with {frac} x your limit should "
            f"{'converge' if should_converge else 'diverge'}"
        )
