"""Specs of 06_cnn."""

import torch

from . import Call, answer, question
from ._inputs import integer, randn

F64 = torch.float64


@question("cnn-output-size-tests")
def _output_size(g):
    calls = []
    for _ in range(40):
        i, k, s, p = integer(g, 3, 30), integer(g, 1, 8), integer(g, 1, 5), integer(g, 0, 4)
        if k <= i + 2 * p:
            calls.append(Call("output_size", (i, k, s, p)))
    return calls


@question("cnn-conv2d-tests")
def _conv2d(g):
    calls = []
    for cin, cout, h, k, s, p in [(1, 1, 5, 3, 1, 0), (3, 4, 9, 3, 2, 1), (2, 5, 10, 5, 3, 2),
                                  (4, 2, 8, 1, 1, 0), (2, 3, 7, 4, 2, 1)]:  # fmt: skip
        x, w = randn(g, 3, cin, h, h, dtype=F64), randn(g, cout, cin, k, k, dtype=F64)
        calls.append(Call("conv2d", (x, w), {"stride": s, "padding": p}, atol=1e-8))
    return calls


@question("cnn-max-pool-tests")
def _max_pool(g):
    calls = [
        Call("max_pool", (randn(g, *shape), k), rtol=0, atol=0)
        for shape, k in [
            ((2, 3, 8, 8), 2),
            ((1, 5, 9, 7), 3),
            ((4, 1, 6, 10), 4),
            ((2, 2, 5, 5), 1),
        ]
    ]
    negative = -torch.rand(1, 1, 4, 4, generator=g)  # a zero-initialised max is wrong
    return [*calls, Call("max_pool", (negative, 2), rtol=0, atol=0)]


# The analysis question of 06_cnn (its derivation is in the solution notebook).
answer("cnn-receptive-depth-answer-tests", "answer_q4", 6)
