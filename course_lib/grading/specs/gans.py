"""Specs of 10_gans."""

import math

import torch

from . import Call, answer, question
from ._inputs import randn, uniform


@question("gans-d-loss-tests")
def _d_loss(g):
    return [Call("d_loss", (randn(g, 17, scale=4), randn(g, 9, scale=4)))]


@question("gans-g-loss-tests")
def _g_loss(g):
    return [Call("g_loss", (randn(g, 13, scale=5),)), Call("g_loss", (torch.tensor([-300.0]),))]


@question("gans-optimal-d-tests")
def _optimal_d(g):
    return [Call("optimal_d", (uniform(g, 5) + 0.01, uniform(g, 5) + 0.01))]


# The analysis question of 10_gans (its derivation is in the solution notebook).
answer(
    "gans-optimal-d-loss-answer-tests", "answer_q4", math.log(1.5) + 0.5 * math.log(3), rtol=0.001
)
