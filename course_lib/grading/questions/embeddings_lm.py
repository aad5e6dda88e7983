"""Visible checks for the word-embedding and language-model exercises (chapter 11)."""

import math

import torch

from ..checks import case


@case(
    "embeddings_lm.bigram_perplexity",
    hint="p(w | v) = (c(v, w) + k) / (c(v) + k V); average -ln p over test[1:], then exp.",
)
def uniform_when_no_data(fn):
    got = fn([], [0, 1, 2, 1], 4, 1.0)
    assert math.isclose(got, 4.0, rel_tol=1e-6), (
        "with no training data every add-k probability is 1/V, so the perplexity must be V"
    )


@case(
    "embeddings_lm.bigram_perplexity",
    hint="Count pairs (train[t-1], train[t]); c(v) counts v as the FIRST element of a pair.",
)
def small_corpus(fn):
    got = fn([0, 1, 0, 1, 0, 2], [0, 1, 0], 3, 1.0)
    # p(1|0) = (2+1)/(3+3) = 1/2 ; p(0|1) = (2+1)/(2+3) = 3/5
    expect = math.exp(-(math.log(0.5) + math.log(0.6)) / 2)
    assert math.isclose(got, expect, rel_tol=1e-6), "wrong perplexity on a 6-token corpus"


@case(
    "embeddings_lm.skipgram_pairs", hint="For each centre i, contexts j with 0 < |i - j| <= window."
)
def three_words(fn):
    got = list(fn(["a", "b", "c"], 1))
    assert sorted(got) == sorted([("a", "b"), ("b", "a"), ("b", "c"), ("c", "b")]), (
        "window 1 over 'a b c' should give 4 pairs"
    )


@case(
    "embeddings_lm.skipgram_pairs",
    hint="Keep the order: centres left to right, contexts left to right.",
)
def order_and_window(fn):
    got = list(fn(["x", "y", "z", "w"], 2))
    assert len(got) == 10, f"expected 10 pairs for 4 words and window 2, got {len(got)}"
    assert got[:2] == [("x", "y"), ("x", "z")], "pairs are not in reading order"


@case("embeddings_lm.nearest", hint="Cosine similarity divides the dot product by both norms.")
def cosine_not_dot(fn):
    E = torch.tensor([[1.0, 0.0], [10.0, 10.0], [0.9, 0.1], [-1.0, 0.0]])
    got = [int(i) for i in fn(E, 0, 2)]
    assert got == [2, 1], "neighbours of row 0 must be ranked by cosine, not by dot product"


@case("embeddings_lm.nearest", hint="Leave the query word itself out of its neighbours.")
def excludes_query(fn):
    E = torch.eye(3) + 0.1
    assert 1 not in [int(i) for i in fn(E, 1, 2)], "the query itself is not its own neighbour"


@case(
    "embeddings_lm.glove_loss",
    hint="Sum over the pairs with X_ij > 0 only: log 0 is -inf, and 0 * inf is nan.",
)
def glove_skips_zero_counts(fn):
    W = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    zero = torch.zeros(2)
    X = torch.tensor([[0.0, 1.0], [0.0, 0.0]])
    got = float(fn(W, W, zero, zero, X, x_max=1.0, alpha=0.75))
    # one pair (0, 1): f(1) = 1, w_0 . w_1 = 0, ln 1 = 0, so the error is 0
    assert math.isfinite(got), "the loss is not finite: leave out the pairs that never co-occur"
    assert abs(got) < 1e-6, "with a single pair whose error is 0 the loss must be 0"


@case(
    "embeddings_lm.glove_loss",
    hint="f(x) = min(1, (x / x_max) ** alpha); the error is w_i . w~_j + b_i + b~_j - ln X_ij.",
)
def glove_weights_and_biases(fn):
    W = torch.tensor([[1.0], [2.0]])
    b = torch.tensor([0.5, 0.0])
    X = torch.tensor([[0.0, 4.0], [100.0, 0.0]])
    # (0, 1): f = (4/16)^0.5 = 0.5, error 1*2 + 0.5 + 0 - ln 4; (1, 0): f = 1, error 2*1 + 0 + 0.5 - ln 100
    expect = 0.5 * (2.5 - math.log(4)) ** 2 + (2.5 - math.log(100)) ** 2
    got = float(fn(W, W, b, b, X, x_max=16.0, alpha=0.5))
    assert math.isclose(got, expect, rel_tol=1e-5), "wrong loss on a 2-word example"
