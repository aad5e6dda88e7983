"""Specs of 13b_text_classification."""

import torch

from . import Call, answer, question
from ._inputs import integer, randint, randn

F64 = torch.float64


def _padded_mask(g, B, T):
    lengths = randint(g, 1, T + 1, B)
    return (torch.arange(T)[None, :] < lengths[:, None]).long()


@question("text-classification-pool-tests")
def _pool(g):
    calls = []
    for B, T, d in [(1, 1, 3), (4, 7, 5), (6, 3, 8)]:
        calls.append(
            Call(
                "masked_mean_pool",
                (randn(g, B, T, d, dtype=F64), _padded_mask(g, B, T)),
                atol=1e-12,
            )
        )
    return calls


@question("text-classification-prototype-tests")
def _prototype(g):
    calls = []
    for n_per, classes, d, q in [(1, 2, 4, 10), (3, 3, 6, 20), (5, 4, 8, 30)]:
        labels = torch.arange(classes).repeat(n_per)
        centres = randn(g, classes, d, dtype=F64, scale=2.0)
        support = (
            centres[labels]
            + randn(g, len(labels), d, dtype=F64)
            * torch.rand(len(labels), 1, generator=g, dtype=F64)
            * 3
        )
        queries = randn(g, q, d, dtype=F64)
        calls.append(Call("prototype_predict", (support, labels, queries), rtol=0, atol=0))
    return calls


@question("text-classification-bow-tests")
def _bow(g):
    calls = []
    for N, T, V in [(1, 4, 5), (5, 9, 12), (8, 6, 30)]:
        ids = randint(g, 1, V, N, T) * _padded_mask(g, N, T)
        calls.append(Call("bag_of_words", (ids, V + integer(g, 0, 3)), rtol=0, atol=0))
    return calls


# The analysis question of 13b_text_classification (its derivation is in the solution notebook).
answer("text-classification-cnn-params-answer-tests", "answer_q4", 2819)
