"""Visible checks for the chapter 00 exercises (``check("ml_basics.<name>", fn)``)."""

import torch

from ..checks import case


def _close(a, b, tol=1e-6):
    return abs(float(a) - float(b)) <= tol * max(1.0, abs(float(b)))


# --- empirical_risk(loss, predict, X, y) -> float --------------------------------------------


def _sq(pred, y):
    return (pred - y) ** 2


@case("ml_basics.empirical_risk", hint="average the per-example losses; return a Python float")
def squared_loss_on_three_points(fn):
    X = torch.tensor([[1.0], [2.0], [4.0]])
    y = torch.tensor([1.0, 1.0, 1.0])
    out = fn(_sq, lambda X: X[:, 0], X, y)
    assert isinstance(out, float), f"expected a Python float, got {type(out).__name__}"
    assert _close(out, (0 + 1 + 9) / 3), "wrong value for the squared loss on three points"


@case("ml_basics.empirical_risk", hint="divide by the number of examples, not a fixed number")
def does_not_grow_with_the_sample(fn):
    X = torch.ones(50, 1)
    y = torch.zeros(50)
    out = fn(_sq, lambda X: X[:, 0], X, y)
    assert _close(out, 1.0), "a loss of 1 on every example must give an empirical risk of 1"


@case("ml_basics.empirical_risk", hint="the 0/1 loss gives the error frequency")
def zero_one_loss(fn):
    X = torch.tensor([[-1.0], [0.5], [2.0], [-3.0]])
    y = torch.tensor([0, 0, 1, 1])
    out = fn(lambda p, t: (p != t).float(), lambda X: (X[:, 0] > 0).long(), X, y)
    assert _close(out, 0.5), "wrong error frequency for a threshold classifier"


# --- precision_recall(pred, target) -> (precision, recall) ----------------------------------


@case("ml_basics.precision_recall", hint="precision = TP / (TP + FP), recall = TP / (TP + FN)")
def known_counts(fn):
    target = torch.tensor([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    pred = torch.tensor([1, 1, 1, 0, 1, 1, 0, 0, 0, 0])  # TP 3, FN 1, FP 2
    p, r = fn(pred, target)
    assert _close(p, 3 / 5) or not _close(r, 3 / 5), "precision and recall look swapped"
    assert _close(p, 3 / 5), "wrong precision for TP=3, FP=2"
    assert _close(r, 3 / 4), "wrong recall for TP=3, FN=1"


@case("ml_basics.precision_recall", hint="when nothing is predicted positive, return 0.0")
def no_positive_predictions(fn):
    p, r = fn(torch.zeros(5, dtype=torch.long), torch.tensor([0, 1, 0, 1, 0]))
    assert float(p) == 0.0 and float(r) == 0.0, "expected 0.0 for both (no true positives)"


@case("ml_basics.precision_recall", hint="class 1 is the positive class")
def perfect_predictions(fn):
    t = torch.tensor([0, 1, 1, 0, 1])
    p, r = fn(t.clone(), t)
    assert _close(p, 1.0) and _close(r, 1.0), "perfect predictions must score 1.0 and 1.0"


# --- bias_variance(preds, truth) -> (bias2, variance) ---------------------------------------


@case("ml_basics.bias_variance", hint="identical perfect models have no bias and no variance")
def perfect_models(fn):
    truth = torch.linspace(-1, 1, 7)
    b2, var = fn(truth.repeat(4, 1), truth)
    assert _close(b2, 0.0) and _close(var, 0.0), "expected (0, 0)"


@case("ml_basics.bias_variance", hint="a constant offset c is pure bias: bias^2 = c^2")
def constant_offset(fn):
    truth = torch.linspace(-1, 1, 7)
    b2, var = fn(truth.repeat(4, 1) + 0.5, truth)
    assert _close(b2, 0.25), "wrong bias^2 for models that are all off by 0.5"
    assert _close(var, 0.0), "models that agree with each other have zero variance"


@case(
    "ml_basics.bias_variance", hint="variance is measured around the average model, not the truth"
)
def symmetric_spread(fn):
    truth = torch.zeros(3)
    preds = torch.tensor([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]])
    b2, var = fn(preds, truth)
    assert _close(b2, 0.0), "the average of +1 and -1 models equals the truth: no bias"
    assert _close(var, 1.0), "wrong variance for two models at +1 and -1"
