"""Specs of 12_rnn."""

import torch

from . import Call, answer, question
from ._inputs import randn


@question("rnn-lstm-tests")
def _lstm(g):
    x, h, c = randn(g, 4, 5), randn(g, 4, 7), randn(g, 4, 7)
    weights = randn(g, 28, 5, scale=0.4), randn(g, 28, 7, scale=0.4), randn(g, 28), randn(g, 28)
    return [Call("lstm_step", (x, h, c, *weights), atol=1e-5)]


@question("rnn-temperature-tests")
def _temperature(g):
    return [
        Call("temperature_probs", (randn(g, 3, 9), 0.3)),
        Call("temperature_probs", (torch.tensor([1000.0, 0.0]), 0.01)),
    ]


@question("rnn-unroll-tests")
def _unroll(g):
    xs, h0 = randn(g, 11, 5, 2), randn(g, 5, 3)
    args = (xs, h0, randn(g, 3, 2, scale=0.5), randn(g, 3, 3, scale=0.5), randn(g, 3))
    return [Call("rnn_unroll", args, atol=1e-5)]


# The analysis question of 12_rnn (its derivation is in the solution notebook).
answer("rnn-memory-steps-answer-tests", "answer_q4", 66)
