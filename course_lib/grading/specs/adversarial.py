"""Specs of 08_adversarial."""

import torch

from . import Call, Make, answer, question
from ._inputs import randint, randn, uniform


def _model(g):
    state = {
        "0.weight": randn(g, 4, 1, 3, 3, scale=0.5),
        "0.bias": randn(g, 4, scale=0.1),
        "3.weight": randn(g, 10, 256, scale=0.1),
        "3.bias": randn(g, 10, scale=0.1),
    }
    return Make("small_cnn", {"state": state})


@question("adversarial-fgsm-tests")
def _fgsm(g):
    model, x, y = _model(g), uniform(g, 12, 1, 8, 8), randint(g, 0, 10, 12)
    return [
        Call("fgsm", (model, xx, y, eps), {"targeted": targeted}, atol=1e-6)
        for targeted in (False, True)
        for xx, eps in ((x * 0.6 + 0.2, 0.1), (x, 0.3))
    ]


@question("adversarial-project-tests")
def _project(g):
    calls = []
    for eps in (0.0, 0.03, 0.2, 0.6):
        x = uniform(g, 5, 1, 8, 8)
        calls.append(Call("project", (x + randn(g, 5, 1, 8, 8), x, eps)))
    return calls


@question("adversarial-pgd-step-tests")
def _pgd_step(g):
    model, x, y = _model(g), uniform(g, 12, 1, 8, 8), randint(g, 0, 10, 12)
    x_adv = (x + 0.05 * torch.sign(randn(g, 12, 1, 8, 8))).clamp(0, 1)
    return [
        Call("pgd_step", (model, x.clone(), x, y, 0.1, 0.04), atol=1e-6),
        Call("pgd_step", (model, x_adv, x, y, 0.1, 0.04), atol=1e-6),
    ]


# The analysis question of 08_adversarial (its derivation is in the solution notebook).
answer("adversarial-linear-budget-answer-tests", "answer_q4", 2.0 / (784 * 0.05), rtol=0.001)
