"""The visible checks of chapters 00 and 01 accept a right answer and reject typical wrong ones."""

import pytest
import torch

from course_lib.grading import CheckFailed, check
from course_lib.models import linear as lin
from course_lib.risk import bias_variance


def passes(question, fn):
    check(question, fn, verbose=False)


def fails(question, fn):
    with pytest.raises(CheckFailed):
        check(question, fn, verbose=False)


def test_empirical_risk():
    passes("ml_basics.empirical_risk", lambda loss, f, X, y: loss(f(X), y).float().mean().item())
    fails("ml_basics.empirical_risk", lambda loss, f, X, y: loss(f(X), y).float().sum().item())
    fails("ml_basics.empirical_risk", lambda loss, f, X, y: loss(f(X), y).float().mean())


def _pr(pred, target, swap=False, nan=False):
    tp = ((pred == 1) & (target == 1)).sum().item()
    fp = ((pred == 1) & (target == 0)).sum().item()
    fn = ((pred == 0) & (target == 1)).sum().item()
    p = tp / (tp + fp) if tp + fp else (float("nan") if nan else 0.0)
    r = tp / (tp + fn) if tp + fn else (float("nan") if nan else 0.0)
    return (r, p) if swap else (p, r)


def test_precision_recall():
    passes("ml_basics.precision_recall", _pr)
    fails("ml_basics.precision_recall", lambda p, t: _pr(p, t, swap=True))
    fails("ml_basics.precision_recall", lambda p, t: _pr(p, t, nan=True))
    fails("ml_basics.precision_recall", lambda p, t: _pr(1 - p, 1 - t))  # wrong positive class


def test_bias_variance():
    passes("ml_basics.bias_variance", bias_variance)
    fails(
        "ml_basics.bias_variance",  # variance around the truth instead of the mean model
        lambda P, t: (((P.mean(0) - t) ** 2).mean().item(), ((P - t) ** 2).mean().item()),
    )
    fails(
        "ml_basics.bias_variance",  # bias not squared
        lambda P, t: ((P.mean(0) - t).abs().mean().item(), P.var(0, unbiased=False).mean().item()),
    )


def test_least_squares():
    passes("linear_models.least_squares", lambda X, y: torch.linalg.solve(X.T @ X, X.T @ y))
    fails("linear_models.least_squares", lambda X, y: X.T @ y / X.shape[0])


def test_logistic_gradient():
    passes("linear_models.logistic_gradient", lin.logistic_gradient)
    fails("linear_models.logistic_gradient", lambda X, y, w: -lin.logistic_gradient(X, y, w))
    fails("linear_models.logistic_gradient", lambda X, y, w: X.T @ (torch.sigmoid(X @ w) - y))


def test_softmax_cross_entropy():
    passes("linear_models.softmax_cross_entropy", lin.cross_entropy)

    def naive(S, y):
        P = torch.exp(S) / torch.exp(S).sum(1, keepdim=True)
        return -torch.log(P[torch.arange(len(y)), y]).mean()

    fails("linear_models.softmax_cross_entropy", naive)
    fails(
        "linear_models.softmax_cross_entropy",
        lambda S, y: -lin.log_softmax(S)[torch.arange(len(y)), y].sum(),
    )


def test_max_stable_lr():
    passes("linear_models.max_stable_lr", lin.max_stable_lr)

    def lam_max(X):
        return torch.linalg.eigvalsh(X.T @ X / len(X)).max().item()

    fails("linear_models.max_stable_lr", lambda X: 1.0 / lam_max(X))  # missing factor 2
    fails("linear_models.max_stable_lr", lambda X: 2.0 / (len(X) * lam_max(X)))  # no 1/N
