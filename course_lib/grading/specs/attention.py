"""Specs of 13_attention_transformers."""

from . import Call, answer, question
from ._inputs import integer, randn, uniform


@question("attention-sdpa-tests")
def _sdpa(g):
    q, k, v = randn(g, 3, 2, 6, 8), randn(g, 3, 2, 9, 8), randn(g, 3, 2, 9, 5)
    mask = uniform(g, 3, 1, 6, 9) > 0.4
    mask[..., 0] = True
    return [Call("attention", (q, k, v), atol=1e-5), Call("attention", (q, k, v, mask), atol=1e-5)]


@question("attention-split-tests")
def _split(g):
    return [Call("split_heads", (randn(g, 3, 7, 24), h)) for h in (1, 6, 8)]


@question("attention-merge-tests")
def _merge(g):
    return [Call("merge_heads", (randn(g, 4, h, 5, 6),), rtol=0, atol=0) for h in (1, 2, 5)]


@question("attention-pe-tests")
def _pe(g):
    return [
        Call("positional_encoding", (T, d), atol=1e-5)
        for T, d in ((50, 16), (7, 2), (integer(g, 1, 40), 2 * integer(g, 1, 32)))
    ]


# The analysis questions of 13_attention_transformers (their derivations are in the solution
# notebook).
answer("attention-mha-params-answer-tests", "answer_q5", 4 * (256 * 256 + 256))
answer("attention-sequential-steps-answer-tests", "answer_q6", (20 + 12) / (2 + 2), rtol=1e-3)
