"""Specs of 02_perceptron."""

import torch

from . import Call, answer, question
from ._inputs import integer, randn, real


@question("perceptron-predict-tests")
def _predict(g):
    return [
        Call("predict", (randn(g, 5), real(g), randn(g, 50, 5))),
        Call("predict", (torch.zeros(3), 0.0, randn(g, 4, 3))),
    ]


@question("perceptron-update-tests")
def _update(g):
    calls = []
    for _ in range(20):
        args = (randn(g, 4), real(g), randn(g, 4), 2 * integer(g, 0, 2) - 1, 0.3)
        calls.append(Call("update", args, report_args=True))
    return calls


def _separable(g, n=50, margin=0.1):
    w = randn(g, 2)
    w = w / w.norm()
    X = randn(g, 4 * n, 2)
    s = X @ w
    keep = s.abs() > margin
    X, s = X[keep][:n], s[keep][:n]
    return X, torch.where(s > 0, 1, -1), w


@question("perceptron-bound-tests")
def _bound(g):
    calls = []
    for _ in range(3):
        X, y, w = _separable(g)
        calls.append(Call("mistake_bound", (X, y, 3.0 * w)))
    X, y, w = _separable(g)
    return [*calls, Call("mistake_bound", (X, -y, w))]  # does not separate: ValueError


@question("perceptron-lms-tests")
def _lms(g):
    return [
        Call("lms_step", (randn(g, 3), randn(g, 3), real(g), 0.05), report_args=True)
        for _ in range(10)
    ]


# The analysis question of 02_perceptron (its derivation is in the solution notebook).
answer("perceptron-boolean-count-answer-tests", "answer_q5", 14)
