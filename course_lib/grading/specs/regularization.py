"""Specs of 05_regularisation."""

import torch

from . import Call, answer, question
from ._inputs import randn, uniform

F64 = torch.float64


@question("regularization-inverted-dropout-tests")
def _inverted_dropout(g):
    x = randn(g, 64, 32)
    mask = (uniform(g, 64, 32) >= 0.2).float()
    return [
        Call("inverted_dropout", (x, 0.2, mask, True)),
        Call("inverted_dropout", (x, 0.7, (uniform(g, 64, 32) >= 0.7).float(), True)),
        Call("inverted_dropout", (x, 0.5, mask, False)),
    ]


@question("regularization-batchnorm-forward-tests")
def _batchnorm_forward(g):
    gamma, beta = randn(g, 5, dtype=F64), randn(g, 5, dtype=F64)
    rm, rv = randn(g, 5, dtype=F64), uniform(g, 5).double() + 0.5
    x = 4 * randn(g, 16, 5, dtype=F64) - 2
    return [
        Call("batchnorm_forward", (x, gamma, beta, rm, rv, True, 0.3, 1e-3), atol=1e-10),
        Call("batchnorm_forward", (x[:3], gamma, beta, rm, rv, False, 0.3, 1e-3), atol=1e-10),
    ]


@question("regularization-clip-tests")
def _clip(g):
    grads = [randn(g, 3, 3, scale=10), randn(g, 7, scale=10), randn(g, 2, 2, 2, scale=10)]
    small = [randn(g, 3, scale=0.01), randn(g, 2, scale=0.01)]
    return [
        Call("clip_by_global_norm", (grads, 2.5), atol=1e-5),
        Call("clip_by_global_norm", (small, 2.5), atol=1e-6),
    ]


@question("regularization-prf-tests")
def _prf(g):
    cm = torch.randint(0, 30, (6, 6), generator=g)
    cm[2, :] = 0  # a class that never occurs
    cm[:, 4] = 0  # and one that is never predicted
    return [Call("precision_recall_f1", (cm,)), Call("precision_recall_f1", (torch.zeros(3, 3),))]


# The analysis question of 05_regularisation (its derivation is in the solution notebook).
answer("regularization-decay-steps-answer-tests", "answer_q5", 693)
