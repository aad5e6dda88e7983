"""Specs of 01_linear_models."""

import math

import torch

from . import Call, answer, question
from ._inputs import randint, randn, uniform

F64 = torch.float64


@question("linear-least-squares-tests")
def _least_squares(g):
    return [Call("least_squares", (randn(g, 80, 5, dtype=F64), randn(g, 80, dtype=F64)), atol=1e-8)]


@question("linear-logistic-gradient-tests")
def _logistic_gradient(g):
    X, w = randn(g, 64, 6, dtype=F64), randn(g, 6, dtype=F64)
    y = (uniform(g, 64) < 0.3).double()
    return [Call("logistic_gradient", (X, y, w), atol=1e-8)]


@question("linear-softmax-cross-entropy-tests")
def _softmax_cross_entropy(g):
    S, y = randn(g, 50, 10, dtype=F64, scale=300), randint(g, 0, 10, 50)
    extreme = torch.tensor([[-2000.0, 0.0], [100.0, 95.0]])
    return [
        Call("softmax_cross_entropy", (S, y), rtol=1e-9),
        Call("softmax_cross_entropy", (extreme, torch.tensor([0, 1]))),
    ]


@question("linear-max-stable-lr-tests")
def _max_stable_lr(g):
    scale = torch.tensor([3.0, 1.0, 0.5, 0.1], dtype=F64)
    return [Call("max_stable_lr", (randn(g, 100, 4, dtype=F64) * scale,), rtol=1e-9)]


# The analysis question of 01_linear_models (its derivation is in the solution notebook).
answer("linear-initial-loss-answer-tests", "answer_q5", math.log(10), rtol=0.001)
