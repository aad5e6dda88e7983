"""From-scratch linear, logistic and softmax regression against PyTorch, NumPy and scikit-learn."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.linear_model import LinearRegression, LogisticRegression

from course_lib import device
from course_lib.models.linear import (
    add_bias,
    cross_entropy,
    fit_logistic,
    fit_softmax,
    gaussian_nll,
    least_squares,
    linear_regression_gd,
    log_softmax,
    logistic_gradient,
    logistic_loss,
    max_stable_lr,
    mse_gradient,
    mse_loss,
    one_hot,
    polynomial_features,
    sigmoid,
    softmax,
    softmax_gradient,
    softmax_jacobian,
)

DEV = device()


@pytest.fixture(autouse=True, scope="module")
def one_cpu_thread():
    """The matrices here are tiny: on a busy CPU, handing work to a second thread costs more
    than the arithmetic (a 300-step fit took 15 s instead of 0.2 s), so use one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def regression_data(n=200, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    w = torch.randn(d, generator=g, dtype=torch.float64)
    y = X @ w + 1.5 + 0.3 * torch.randn(n, generator=g, dtype=torch.float64)
    return add_bias(X).to(DEV), y.to(DEV)


def classification_data(n=300, d=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    logits = X @ torch.tensor([2.0, -1.0][:d] + [0.5] * (d - 2), dtype=torch.float64) + 0.3
    y = (torch.rand(n, generator=g, dtype=torch.float64) < torch.sigmoid(logits)).long()
    return X.to(DEV), y.to(DEV)


def test_least_squares_matches_sklearn_and_numpy():
    X, y = regression_data()
    w = least_squares(X, y).cpu().numpy()
    ref = LinearRegression().fit(X[:, 1:].cpu().numpy(), y.cpu().numpy())
    np.testing.assert_allclose(w, np.r_[ref.intercept_, ref.coef_], atol=1e-8)
    np.testing.assert_allclose(
        w, np.linalg.lstsq(X.cpu().numpy(), y.cpu().numpy(), rcond=None)[0], atol=1e-8
    )


def test_least_squares_residual_is_orthogonal_to_columns():
    X, y = regression_data()
    r = y - X @ least_squares(X, y)
    assert (X.T @ r).abs().max().item() < 1e-9


def test_ridge_solves_the_penalised_normal_equations():
    X, y = regression_data()
    w = least_squares(X, y, ridge=0.1)
    grad = X.T @ (X @ w - y) / len(y) + 0.1 * w  # gradient of 1/(2N)||Xw-y||^2 + 0.05||w||^2
    assert grad.abs().max().item() < 1e-10


def test_least_squares_batches():
    X, y = regression_data()
    Xb, yb = torch.stack([X, 2 * X]), torch.stack([y, y])
    wb = least_squares(Xb, yb)
    torch.testing.assert_close(wb[0], least_squares(X, y))
    torch.testing.assert_close(wb[1], least_squares(X, y) / 2)


def test_mse_gradient_matches_autograd():
    X, y = regression_data()
    w = torch.randn(X.shape[1], dtype=X.dtype, device=DEV, requires_grad=True)
    mse_loss(X, y, w).backward()
    torch.testing.assert_close(mse_gradient(X, y, w.detach()), w.grad)


def test_gd_reaches_closed_form_and_diverges_above_threshold():
    X, y = regression_data()
    lr_max = max_stable_lr(X)
    w, hist = linear_regression_gd(X, y, lr=0.9 * lr_max, steps=500)
    assert (w - least_squares(X, y)).abs().max().item() < 1e-6
    assert hist["path"].shape == (501, X.shape[1])
    _, bad = linear_regression_gd(X, y, lr=1.1 * lr_max, steps=200)
    assert bad["loss"][-1] > 1e3 * bad["loss"][0]


def test_polynomial_features():
    x = torch.tensor([2.0, -1.0])
    torch.testing.assert_close(
        polynomial_features(x, 3), torch.tensor([[1.0, 2, 4, 8], [1, -1, 1, -1]])
    )
    with pytest.raises(ValueError, match="degree"):
        polynomial_features(x, -1)


def test_gaussian_nll_matches_torch_distributions():
    X, y = regression_data()
    w = least_squares(X, y)
    ref = -torch.distributions.Normal(X @ w, 0.7).log_prob(y).mean()
    torch.testing.assert_close(gaussian_nll(X, y, w, 0.7), ref)


def test_sigmoid_matches_torch_and_is_stable():
    z = torch.tensor([-1000.0, -30.0, -1.0, 0.0, 2.0, 30.0, 1000.0], device=DEV)
    torch.testing.assert_close(sigmoid(z), torch.sigmoid(z))
    assert torch.isfinite(sigmoid(z)).all()


def test_logistic_loss_and_gradient_match_torch():
    X, y = classification_data()
    X = add_bias(X)
    w = torch.randn(X.shape[1], dtype=X.dtype, device=DEV, requires_grad=True)
    ref = F.binary_cross_entropy_with_logits(X @ w, y.to(X.dtype))
    torch.testing.assert_close(logistic_loss(X, y.to(X.dtype), w), ref)
    ref.backward()
    torch.testing.assert_close(logistic_gradient(X, y.to(X.dtype), w.detach()), w.grad)


def test_fit_logistic_matches_sklearn_unpenalised():
    X, y = classification_data()
    w, _ = fit_logistic(add_bias(X), y, lr=4.0, steps=300)
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(
        X.cpu().numpy(), y.cpu().numpy()
    )
    np.testing.assert_allclose(w.cpu().numpy(), np.r_[ref.intercept_, ref.coef_[0]], atol=1e-6)


def test_fit_logistic_rejects_non_binary_labels():
    X, y = classification_data()
    with pytest.raises(ValueError, match="0/1"):
        fit_logistic(X, y + 1)


def test_softmax_and_log_softmax_match_torch():
    g = torch.Generator().manual_seed(0)
    S = (50 * torch.randn(20, 7, generator=g, dtype=torch.float64)).to(DEV)
    torch.testing.assert_close(softmax(S), torch.softmax(S, dim=1))
    torch.testing.assert_close(log_softmax(S), torch.log_softmax(S, dim=1))
    S[0, 0] = 1e4  # exp would overflow without the max shift
    assert torch.isfinite(log_softmax(S)).all()


def test_softmax_jacobian_matches_autograd():
    s = torch.tensor([0.5, -1.0, 2.0, 0.0], dtype=torch.float64, device=DEV)
    ref = torch.autograd.functional.jacobian(lambda v: torch.softmax(v, 0), s)
    torch.testing.assert_close(softmax_jacobian(s), ref)


def test_cross_entropy_and_gradient_match_torch():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(40, 5, generator=g, dtype=torch.float64).to(DEV)
    y = torch.randint(0, 3, (40,), generator=g).to(DEV)
    W = torch.randn(5, 3, generator=g, dtype=torch.float64).to(DEV).requires_grad_()
    ref = F.cross_entropy(X @ W, y)
    torch.testing.assert_close(cross_entropy(X @ W, y), ref)
    ref.backward()
    torch.testing.assert_close(softmax_gradient(X, y, W.detach()), W.grad)


def test_one_hot_matches_torch():
    y = torch.tensor([2, 0, 1, 2])
    torch.testing.assert_close(one_hot(y, 3), F.one_hot(y, 3).float())
    with pytest.raises(ValueError, match="labels"):
        one_hot(y, 2)


def test_fit_softmax_matches_sklearn_predictions():
    g = torch.Generator().manual_seed(0)
    centers = torch.tensor([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]], dtype=torch.float64)
    y = torch.randint(0, 3, (300,), generator=g)
    X = centers[y] + torch.randn(300, 2, generator=g, dtype=torch.float64)
    W, hist = fit_softmax(add_bias(X).to(DEV), y.to(DEV), 3, lr=2.0, steps=2000)
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X.numpy(), y.numpy())
    ours = torch.softmax(add_bias(X).to(DEV) @ W, 1).cpu().numpy()
    np.testing.assert_allclose(ours, ref.predict_proba(X.numpy()), atol=1e-3)
    assert hist["loss"][-1] < hist["loss"][0]


def test_errors_name_the_argument():
    X, y = regression_data()
    with pytest.raises(ValueError, match="rows"):
        mse_loss(X, y[:-1], torch.zeros(X.shape[1], dtype=X.dtype, device=DEV))
    with pytest.raises(ValueError, match="lr"):
        linear_regression_gd(X, y, lr=0.0, steps=1)
    with pytest.raises(TypeError, match="integer class labels"):
        cross_entropy(torch.zeros(2, 3), torch.zeros(2))
