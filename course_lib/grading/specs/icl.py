"""Specs of 15b_in_context_learning."""

import math

import torch

from . import Call, answer, question
from ._inputs import integer

F64 = torch.float64


def _attention(g, T):
    scores = torch.randn(T, T, generator=g, dtype=F64) * 2
    scores = scores.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
    return scores.softmax(-1)


@question("icl-induction-score-tests")
def _induction(g):
    calls = []
    for T, V in [(6, 2), (16, 5), (30, 10), (40, 32)]:
        tokens = torch.randint(V, (T,), generator=g)
        calls.append(Call("induction_score", (_attention(g, T), tokens), atol=1e-9))
    span = torch.randint(8, (5,), generator=g)
    repeated = torch.cat([span, torch.randint(8, (integer(g, 0, 4),), generator=g), span])
    calls.append(Call("induction_score", (_attention(g, len(repeated)), repeated), atol=1e-9))
    calls.append(Call("induction_score", (_attention(g, 5), torch.arange(5)), atol=1e-9))
    return calls


@question("icl-previous-token-score-tests")
def _previous(g):
    return [Call("previous_token_score", (_attention(g, T),), atol=1e-9) for T in (2, 7, 25)]


@question("icl-span-loss-tests")
def _span_loss(g):
    calls = []
    for T, V, span in [(12, 5, 3), (40, 32, 8), (25, 9, 12)]:
        start = integer(g, 0, T - span + 1)
        logits = torch.randn(T, V, generator=g, dtype=F64) * 3
        tokens = torch.randint(V, (T,), generator=g)
        calls.append(Call("span_loss", (logits, tokens, start, span), atol=1e-9))
    return calls


# The analysis question of 15b_in_context_learning (its derivation is in the solution notebook):
# T = 40 tokens, V = 32, a span of S = 8; 39 targets, of which S - 1 = 7 are copied at loss 0.
answer("icl-sequence-loss-answer-tests", "answer_q4", 32 / 39 * math.log(32), rtol=1e-3)
