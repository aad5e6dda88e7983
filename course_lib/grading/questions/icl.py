"""Visible checks for chapter 15b (in-context learning, induction heads)."""

import math

import torch

from ..checks import case


def _causal_attention(g, T):
    scores = torch.randn(T, T, generator=g, dtype=torch.float64)
    scores = scores.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
    return scores.softmax(-1)


def _brute_induction(attn, tokens):
    total, count = 0.0, 0
    toks = tokens.tolist()
    for t in range(len(toks)):
        earlier = [j for j in range(t) if toks[j] == toks[t]]
        if earlier:
            total += float(attn[t, earlier[-1] + 1])
            count += 1
    return total / count if count else 0.0


# ----------------------------------------------------------------------------- icl.induction_score
@case("icl.induction_score", hint="Return a plain Python float.")
def induction_returns_float(fn):
    out = fn(torch.eye(4, dtype=torch.float64), torch.tensor([1, 2, 1, 2]))
    assert isinstance(out, float), f"return a Python float, got {type(out).__name__}"


@case("icl.induction_score", hint="Look at the position just after the earlier occurrence.")
def induction_perfect_head(fn):
    tokens = torch.tensor([5, 6, 7, 5, 6, 7])
    attn = torch.zeros(6, 6, dtype=torch.float64)
    attn[0, 0] = attn[1, 1] = attn[2, 2] = 1.0
    attn[3, 1] = attn[4, 2] = attn[5, 3] = 1.0  # after the earlier 5, 6, 7: positions 1, 2, 3
    assert abs(fn(attn, tokens) - 1.0) < 1e-12, "a perfect induction head must score 1"


@case("icl.induction_score", hint="Average only over positions whose token occurred before.")
def induction_only_repeats(fn):
    tokens = torch.tensor([1, 2, 3, 1])
    attn = torch.full((4, 4), 0.0, dtype=torch.float64)
    attn[:, 0] = 1.0
    attn[3] = torch.tensor([0.2, 0.5, 0.2, 0.1], dtype=torch.float64)
    assert abs(fn(attn, tokens) - 0.5) < 1e-12, "one repeated position, its weight on key 1"


@case("icl.induction_score", hint="Use the latest earlier occurrence when there are several.")
def induction_latest(fn):
    tokens = torch.tensor([4, 4, 4])
    attn = torch.tensor([[1, 0, 0], [0.3, 0.7, 0], [0.1, 0.2, 0.7]], dtype=torch.float64)
    assert abs(fn(attn, tokens) - (0.7 + 0.7) / 2) < 1e-12, "wrong with a token seen twice"


@case("icl.induction_score", hint="No repeated token at all: return 0.0.")
def induction_no_repeat(fn):
    assert fn(torch.eye(3, dtype=torch.float64), torch.tensor([0, 1, 2])) == 0.0


@case("icl.induction_score", hint="Compare with a loop over positions on random inputs.")
def induction_random(fn):
    g = torch.Generator().manual_seed(0)
    attn, tokens = _causal_attention(g, 12), torch.randint(4, (12,), generator=g)
    assert abs(fn(attn, tokens) - _brute_induction(attn, tokens)) < 1e-9, "wrong on random input"


# ----------------------------------------------------------------------------- icl.previous_token_score
@case("icl.previous_token_score", hint="Return a plain Python float.")
def previous_returns_float(fn):
    out = fn(torch.eye(3, dtype=torch.float64))
    assert isinstance(out, float), f"return a Python float, got {type(out).__name__}"


@case("icl.previous_token_score", hint="A head that always looks one step back scores 1.")
def previous_perfect(fn):
    attn = torch.zeros(5, 5, dtype=torch.float64)
    attn[0, 0] = 1.0
    attn[torch.arange(1, 5), torch.arange(4)] = 1.0
    assert abs(fn(attn) - 1.0) < 1e-12, "a perfect previous-token head must score 1"


@case("icl.previous_token_score", hint="Leave out position 0: it has no previous token.")
def previous_skips_first(fn):
    attn = torch.tensor([[1.0, 0], [0.25, 0.75]], dtype=torch.float64)
    assert abs(fn(attn) - 0.25) < 1e-12, "with T = 2 the score is attn[1, 0]"


@case("icl.previous_token_score", hint="Average attn[t, t - 1] over t = 1 .. T - 1.")
def previous_random(fn):
    g = torch.Generator().manual_seed(1)
    attn = _causal_attention(g, 9)
    want = sum(float(attn[t, t - 1]) for t in range(1, 9)) / 8
    assert abs(fn(attn) - want) < 1e-9, "wrong on a random attention matrix"


# ----------------------------------------------------------------------------- icl.span_loss
@case("icl.span_loss", hint="Return a plain Python float.")
def span_returns_float(fn):
    out = fn(torch.zeros(4, 3, dtype=torch.float64), torch.tensor([0, 1, 2, 0]), 0, 3)
    assert isinstance(out, float), f"return a Python float, got {type(out).__name__}"


@case("icl.span_loss", hint="Uniform logits give ln V for every token.")
def span_uniform(fn):
    out = fn(torch.zeros(6, 5, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 4, 0]), 1, 4)
    assert abs(out - math.log(5)) < 1e-12, "uniform logits over V = 5 must give ln 5"


@case("icl.span_loss", hint="Row t - 1 predicts token t; skip the span's first token.")
def span_alignment(fn):
    tokens = torch.tensor([2, 0, 1, 1, 0])
    logits = torch.zeros(5, 3, dtype=torch.float64)
    logits[1, 1] = logits[2, 1] = 50.0  # rows 1 and 2 predict tokens 2 and 3 (both 1) surely
    assert fn(logits, tokens, 1, 3) < 1e-12, "the span 1..3 is predicted by rows 1 and 2"
    assert fn(logits, tokens, 0, 3) > 1.0, "the span 0..2 is predicted by rows 0 and 1"
