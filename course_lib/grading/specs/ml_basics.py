"""Specs of 00_ml_basics."""

import math

import torch

from . import Call, Make, answer, question
from ._inputs import randint, randn, uniform


@question("ml-basics-empirical-risk-tests")
def _empirical_risk(g):
    X, y, w = randn(g, 137, 2), randn(g, 137), randn(g, 2)
    predict = Make("linear_predict", {"w": w})
    return [
        Call("empirical_risk", (Make("loss", {"kind": kind}), predict, X, y))
        for kind in ("squared", "absolute")
    ]


@question("ml-basics-precision-recall-tests")
def _precision_recall(g):
    calls = []
    for _ in range(5):
        t = randint(g, 0, 2, 200)
        p = torch.where(uniform(g, 200) < 0.7, t, 1 - t)
        calls.append(Call("precision_recall", (p, t), rtol=1e-9, atol=1e-12))
    zeros = torch.zeros(4, dtype=torch.long)
    return [*calls, Call("precision_recall", (zeros, zeros.clone()))]


@question("ml-basics-bias-variance-tests")
def _bias_variance(g):
    grid = torch.linspace(0, 1, 25, dtype=torch.float64)
    preds = randn(g, 40, 25, dtype=torch.float64, scale=0.3) + grid
    return [Call("bias_variance", (preds, grid**2), rtol=1e-9, atol=1e-12)]


# The analysis question of 00_ml_basics (its derivation is in the solution notebook).
answer("ml-basics-test-error-sd-answer-tests", "answer_q4", math.sqrt(0.1 * 0.9 / 400), rtol=0.01)
