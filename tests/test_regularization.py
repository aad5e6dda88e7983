"""Dropout, lasso, clipping, augmentation and min-norm least squares against references."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import Lasso

from course_lib import regularization as R


def test_inverted_dropout_matches_torch_with_the_same_mask():
    torch.manual_seed(0)
    x = torch.randn(200, 50)
    ref = torch.nn.functional.dropout(torch.ones_like(x), p=0.3, training=True)
    mask = (ref != 0).float()
    torch.testing.assert_close(R.inverted_dropout(x, 0.3, True, mask), x * ref)
    # evaluation: identity, like torch
    torch.testing.assert_close(R.inverted_dropout(x, 0.3, False), x)
    drop = R.Dropout(0.3).eval()
    torch.testing.assert_close(drop(x), torch.nn.Dropout(0.3).eval()(x))


def test_dropout_expectations():
    x = torch.ones(400_000)
    y = R.inverted_dropout(x, 0.25, True)
    torch.testing.assert_close(torch.unique(y), torch.tensor([0.0, 1 / 0.75]))
    assert abs(y.mean().item() - 1) < 0.01
    z = R.original_dropout(x, 0.25, True)
    assert abs(z.mean().item() - R.original_dropout(x, 0.25, False).mean().item()) < 0.01
    with pytest.raises(ValueError, match="p"):
        R.inverted_dropout(x, 1.0, True)


def test_lasso_matches_sklearn_and_is_sparse():
    gen = np.random.default_rng(0)
    X = gen.standard_normal((100, 20))
    w = np.zeros(20)
    w[:3] = [2.0, -3.0, 1.5]
    y = X @ w + 0.1 * gen.standard_normal(100)
    ours = R.lasso(torch.tensor(X), torch.tensor(y), 0.1, steps=5000).numpy()
    ref = Lasso(alpha=0.1, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y).coef_
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    assert (ours == 0).sum() >= 10


def test_ridge_matches_closed_form_sklearn():
    from sklearn.linear_model import Ridge

    gen = np.random.default_rng(1)
    X, y = gen.standard_normal((50, 5)), gen.standard_normal(50)
    ours = R.ridge(torch.tensor(X), torch.tensor(y), 0.3).numpy()
    # sklearn's Ridge minimises ||y - Xw||^2 + alpha ||w||^2, i.e. alpha_sk = n * alpha
    ref = Ridge(alpha=50 * 0.3, fit_intercept=False).fit(X, y).coef_
    np.testing.assert_allclose(ours, ref, atol=1e-10)


def test_clip_grad_norm_matches_torch():
    torch.manual_seed(0)
    a = [torch.randn(3, 4, requires_grad=True), torch.randn(5, requires_grad=True)]
    b = [p.detach().clone().requires_grad_(True) for p in a]
    for params in (a, b):
        sum((p**2).sum() * 10 for p in params).backward()
    n1 = R.clip_grad_norm(a, 1.0)
    n2 = torch.nn.utils.clip_grad_norm_(b, 1.0).item()
    assert n1 == pytest.approx(n2)
    for pa, pb in zip(a, b, strict=True):
        torch.testing.assert_close(pa.grad, pb.grad)
    # below the threshold nothing changes
    g = a[0].grad.clone()
    R.clip_grad_norm(a, 100.0)
    torch.testing.assert_close(a[0].grad, g)


def test_random_shift_moves_pixels():
    img = torch.zeros(1, 1, 5, 5)
    img[0, 0, 2, 2] = 1.0
    gen = torch.Generator().manual_seed(0)
    out = R.random_shift(img.repeat(50, 1, 1, 1), 1, generator=gen)
    assert out.shape == (50, 1, 5, 5)
    assert torch.all(out.sum(dim=(1, 2, 3)) == 1)  # the bright pixel survives
    positions = {tuple(torch.nonzero(o[0])[0].tolist()) for o in out}
    assert positions <= {(r, c) for r in (1, 2, 3) for c in (1, 2, 3)} and len(positions) > 4


def test_min_norm_least_squares():
    gen = torch.Generator().manual_seed(0)
    Phi = torch.randn(10, 30, generator=gen, dtype=torch.float64)
    y = torch.randn(10, generator=gen, dtype=torch.float64)
    a = R.min_norm_least_squares(Phi, y)
    torch.testing.assert_close(Phi @ a, y)  # interpolates
    # any other interpolating solution adds a null-space component and is longer
    null = torch.linalg.svd(Phi).Vh[10:]
    other = a + null.T @ torch.randn(20, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(Phi @ other, y)
    assert a.norm() < other.norm()
    phi = R.random_relu_features(4, 7, generator=gen)
    assert phi(torch.randn(3, 4, dtype=torch.float64)).shape == (3, 7)


def test_weight_penalty_and_soft_threshold():
    model = torch.nn.Linear(3, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, -2.0, 0.0], [0.5, 0.0, 3.0]]))
    assert R.weight_penalty(model, "l2").item() == pytest.approx(1 + 4 + 0.25 + 9)
    assert R.weight_penalty(model, "l1").item() == pytest.approx(1 + 2 + 0.5 + 3)
    with pytest.raises(ValueError, match="kind"):
        R.weight_penalty(model, "l3")
    torch.testing.assert_close(
        R.soft_threshold(torch.tensor([-2.0, -0.5, 0.3, 1.5]), 1.0),
        torch.tensor([-1.0, 0.0, 0.0, 0.5]),
    )


def test_ensemble_probs_is_the_mean_of_softmaxes():
    torch.manual_seed(0)
    models = [torch.nn.Linear(4, 3) for _ in range(3)]
    X = torch.randn(5, 4)
    with torch.no_grad():
        expected = sum(torch.softmax(m(X), 1) for m in models) / 3
    torch.testing.assert_close(R.ensemble_probs(models, X), expected)
    with pytest.raises(ValueError, match="empty"):
        R.ensemble_probs([], X)


def test_elastic_net_matches_sklearn():
    from sklearn.linear_model import ElasticNet

    gen = np.random.default_rng(2)
    X = gen.standard_normal((60, 12))
    X[:, 1:4] = X[:, :1] + 0.05 * gen.standard_normal((60, 3))  # a correlated group
    y = X[:, 0] + X[:, 5] + 0.1 * gen.standard_normal(60)
    for alpha, rho in ((0.1, 0.5), (0.05, 0.9), (0.3, 0.1), (0.2, 0.0)):
        ours = R.elastic_net(torch.tensor(X), torch.tensor(y), alpha, rho).numpy()
        ref = (
            ElasticNet(
                alpha=alpha, l1_ratio=rho, fit_intercept=False, tol=1e-14, max_iter=1_000_000
            )
            .fit(X, y)
            .coef_
        )
        np.testing.assert_allclose(ours, ref, atol=1e-7)


def test_elastic_net_limits_are_lasso_and_ridge():
    gen = np.random.default_rng(3)
    X, y = torch.tensor(gen.standard_normal((80, 6))), torch.tensor(gen.standard_normal(80))
    torch.testing.assert_close(R.elastic_net(X, y, 0.2, 0.0), R.ridge(X, y, 0.2))
    lasso_cd = R.elastic_net(X, y, 0.05, 1.0)
    torch.testing.assert_close(lasso_cd, R.lasso(X, y, 0.05, steps=5000), atol=1e-8, rtol=0)
    assert R.elastic_net(X, y, 100.0, 1.0).abs().max() == 0  # alpha above max |x_j . y| / n
    with pytest.raises(ValueError, match="l1_ratio"):
        R.elastic_net(X, y, 0.1, 1.5)
    with pytest.raises(ValueError, match="all-zero column"):
        R.elastic_net(
            torch.zeros(5, 2, dtype=torch.float64), torch.ones(5, dtype=torch.float64), 0.1, 1.0
        )


def test_mc_dropout_passes_differ_and_restore_modes():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 32),
        torch.nn.ReLU(),
        R.Dropout(0.5),
        torch.nn.BatchNorm1d(32),
        torch.nn.Linear(32, 3),
    ).eval()
    X = torch.randn(7, 4)
    probs = R.mc_dropout_probs(model, X, passes=20)
    assert probs.shape == (20, 7, 3)
    torch.testing.assert_close(probs.sum(-1), torch.ones(20, 7))
    assert (probs.std(0) > 0).all()  # every pass drew its own masks
    assert not model.training and not model[3].training  # batch norm stayed in eval mode
    with pytest.raises(ValueError, match="no Dropout"):
        R.mc_dropout_probs(torch.nn.Linear(4, 3), X)


def test_predictive_uncertainty_against_hand_computed_entropies():
    # two passes that disagree completely vs two that agree on a uniform answer
    probs = torch.tensor([[[1.0, 0.0], [0.5, 0.5]], [[0.0, 1.0], [0.5, 0.5]]], dtype=torch.float64)
    u = R.predictive_uncertainty(probs)
    log2 = torch.log(torch.tensor(2.0, dtype=torch.float64))
    torch.testing.assert_close(u["entropy"], torch.stack([log2, log2]))
    torch.testing.assert_close(u["expected"], torch.stack([log2 * 0, log2]))
    torch.testing.assert_close(u["mutual_info"], torch.stack([log2, log2 * 0]))
