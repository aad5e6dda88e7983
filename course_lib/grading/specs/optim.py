"""Specs of 04_optimisation."""

import torch

from . import Call, answer, question
from ._inputs import integer, randn, real, uniform

F64 = torch.float64


@question("optim-adam-step-tests")
def _adam_step(g):
    calls = []
    for t in (1, 2, 7, 30):
        w, grad, m = randn(g, 3, 2, dtype=F64), randn(g, 3, 2, dtype=F64), randn(g, 3, 2, dtype=F64)
        v = uniform(g, 3, 2).double()
        kw = {"lr": 0.02, "beta1": 0.95, "beta2": 0.9, "eps": 1e-6}
        calls.append(Call("adam_step", (w, grad, m, v, t), kw, atol=1e-10))
    return calls


@question("optim-momentum-step-tests")
def _momentum_step(g):
    w, grad = randn(g, 2, dtype=F64), randn(g, 2, dtype=F64)
    return [
        Call("momentum_step", (w, grad, None, 0.01, 0.95), atol=1e-10),
        Call("momentum_step", (w, grad, randn(g, 2, dtype=F64), 0.01, 0.95), atol=1e-10),
        Call("momentum_step", (w, grad, randn(g, 2, dtype=F64), real(g, 0, 1), 0.5), atol=1e-10),
    ]


@question("optim-warmup-cosine-tests")
def _warmup_cosine(g):
    warmup, total = integer(g, 3, 15), integer(g, 40, 120)
    return [
        Call("warmup_cosine", (t, warmup, total, 3e-4), rtol=1e-9, atol=1e-15) for t in range(total)
    ]


# The analysis question of 04_optimisation (its derivation is in the solution notebook).
answer("optim-best-rate-answer-tests", "answer_q4", 99 / 101, rtol=0.001)
