"""Specs of 03_mlp_backprop (NumPy)."""

import numpy as np

from . import Call, answer, question
from ._inputs import integer


def _rng(g):
    return np.random.default_rng(integer(g, 0, 2**31))


@question("mlp-silu-grad-tests")
def _silu_grad(g):
    x = np.linspace(-8, 8, 161).reshape(7, 23) + _rng(g).normal(size=(7, 23)) * 0.1
    return [Call("silu_grad", (x,), rtol=1e-9, atol=1e-12)]


@question("mlp-linear-backward-tests")
def _linear_backward(g):
    rng, calls = _rng(g), []
    for B, din, dout in [(7, 5, 3), (1, 2, 6), (4, 4, 4)]:
        dY, X, W = (
            rng.normal(size=(B, dout)),
            rng.normal(size=(B, din)),
            rng.normal(size=(dout, din)),
        )
        calls.append(Call("linear_backward", (dY, X, W), rtol=1e-10, atol=1e-12))
    return calls


@question("mlp-backprop-step-tests")
def _backprop_step(g):
    rng, calls = _rng(g), []
    for D, H, K, B in [(5, 7, 4, 9), (2, 3, 2, 1), (8, 16, 10, 32)]:
        params = {
            "W1": rng.normal(size=(H, D)),
            "b1": rng.normal(size=H),
            "W2": rng.normal(size=(K, H)),
            "b2": rng.normal(size=K),
        }
        X, y = rng.normal(size=(B, D)), rng.integers(0, K, size=B)
        calls.append(Call("backprop_step", (params, X, y, 0.3), rtol=1e-7, atol=1e-10))
    big = {"W1": np.eye(2) * 50, "b1": np.zeros(2), "W2": np.eye(2) * 500, "b2": np.zeros(2)}
    return [*calls, Call("backprop_step", (big, np.array([[1.0, -1.0]]), np.array([1]), 0.1))]


# The analysis question of 03_mlp_backprop (its derivation is in the solution notebook).
answer("mlp-hidden-width-answer-tests", "answer_q4", 64)
