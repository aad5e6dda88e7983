"""Specs of 09_autoencoders."""

from . import Call, answer, question
from ._inputs import integer, randn


@question("autoencoders-reparameterize-tests")
def _reparameterize(g):
    return [Call("reparameterize", (randn(g, 7, 5), randn(g, 7, 5), randn(g, 7, 5)))]


@question("autoencoders-kl-tests")
def _kl(g):
    return [Call("kl", (randn(g, 6, 4), randn(g, 6, 4)), atol=1e-5)]


@question("autoencoders-tconv-size-tests")
def _tconv_size(g):
    calls = []
    for _ in range(10):
        s = integer(g, 1, 5)
        args = (integer(g, 1, 12), integer(g, 1, 8), s, integer(g, 0, 4), integer(g, 0, s))
        calls.append(Call("tconv_size", args))
    return calls


# The analysis question of 09_autoencoders (its derivation is in the solution notebook).
answer("autoencoders-linear-ae-error-answer-tests", "answer_q4", 1.5, rtol=0.001)
