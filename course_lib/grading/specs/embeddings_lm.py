"""Specs of 11_embeddings_lm."""

import torch

from . import Call, answer, question
from ._inputs import integer, randint, randn, uniform


@question("embeddings_lm-bigram-tests")
def _bigram(g):
    train, test = randint(g, 0, 6, 300).tolist(), randint(g, 0, 6, 50).tolist()
    return [
        Call("bigram_perplexity", (train, test, 6, 0.5), rtol=1e-9),
        Call("bigram_perplexity", ([1, 1, 1], [1, 1], 3, 1.0), rtol=1e-9),
    ]


@question("embeddings_lm-pairs-tests")
def _pairs(g):
    words = "I will have orange juice and eggs for breakfast".split()
    return [
        Call("skipgram_pairs", (words, integer(g, 1, 4))),
        Call("skipgram_pairs", (["solo"], 3)),
        Call("skipgram_pairs", (randint(g, 0, 5, 12).tolist(), 20)),
    ]


@question("embeddings_lm-nearest-tests")
def _nearest(g):
    E = randn(g, 40, 6) * uniform(g, 40, 1) * 10
    return [Call("nearest", (E, integer(g, 0, 40), 5)), Call("nearest", (E, 0, 39))]


@question("embeddings_lm-glove-tests")
def _glove(g):
    V, d = integer(g, 5, 12), 4
    X = randint(g, 0, 30, V, V).float() * (uniform(g, V, V) < 0.6)
    params = (randn(g, V, d), randn(g, V, d), randn(g, V), randn(g, V))
    return [
        Call("glove_loss", (*params, X, 20.0, 0.5), rtol=1e-4),
        Call("glove_loss", (*params, X), rtol=1e-4),
        Call("glove_loss", (*params, torch.zeros(V, V))),
    ]


# The analysis question of 11_embeddings_lm (its derivation is in the solution notebook).
answer("embeddings_lm-perplexity-answer-tests", "answer_q4", 2 ** (7 / 4), rtol=0.001)
