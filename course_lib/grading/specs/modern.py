"""Specs of 14_modern_transformers."""

import torch

from . import Call, answer, question
from ._inputs import integer, randn, uniform


@question("modern-rms-tests")
def _rms(g):
    return [Call("rms_norm", (randn(g, 3, 5, 16, scale=4) + 2, uniform(g, 16) * 1.5 + 0.5))]


@question("modern-rope-tests")
def _rope(g):
    start = integer(g, 0, 50)
    return [
        Call("rope", (randn(g, 2, 3, 11, 16), torch.arange(start, start + 11)), atol=1e-4),
        Call("rope", (randn(g, 1, 32), torch.tensor([integer(g, 0, 200)])), atol=1e-4),
    ]


@question("modern-gqa-tests")
def _gqa(g):
    calls = []
    for hq, hkv in ((8, 2), (6, 3), (4, 1)):
        q, k, v = randn(g, 2, hq, 7, 8), randn(g, 2, hkv, 7, 8), randn(g, 2, hkv, 7, 8)
        calls.append(Call("gqa_attention", (q, k, v), atol=1e-5))
    return calls


@question("modern-window-tests")
def _window(g):
    return [
        Call("window_mask", args)
        for args in ((10, 1), (10, 3), (7, 20), (integer(g, 2, 20), integer(g, 1, 10)))
    ]


# The analysis question of 14_modern_transformers (its derivation is in the solution notebook).
answer("modern-kv-cache-size-answer-tests", "answer_q5", 512, rtol=1e-06)
