"""Specs of 07_modern_cnns."""

import torch

from . import Call, Make, answer, question
from ._inputs import integer, randint, randn, uniform


@question("modern-cnn-vgg-params-tests")
def _vgg_params(g):
    calls = [Call("vgg_params", args) for args in [(3, 64, 2), (128, 256, 3), (1, 1, 1)]]
    return calls + [
        Call("vgg_params", (integer(g, 1, 300), integer(g, 1, 300), integer(g, 1, 5)))
        for _ in range(5)
    ]


def _conv(g, c_in, c_out, stride):
    weight = randn(g, c_out, c_in, 3, 3, scale=0.3)
    kw = {"c_in": c_in, "c_out": c_out, "k": 3, "stride": stride, "padding": 1}
    return Make("conv2d", {**kw, "state": {"weight": weight}})


def _bn(g, channels, training):
    state = {"weight": uniform(g, channels) + 0.5, "bias": randn(g, channels)}
    mean, var = randn(g, channels), uniform(g, channels) + 0.5
    kw = {"channels": channels, "state": state, "mean": mean, "var": var, "training": training}
    return Make("batchnorm2d", kw)


@question("modern-cnn-residual-tests")
def _residual(g):
    calls = []
    for ci, co, s in [(4, 4, 1), (4, 8, 2), (3, 6, 1)]:
        for training in (True, False):
            x = randn(g, 3, ci, 8, 8)
            layers = [_conv(g, ci, co, s), _bn(g, co, training), _conv(g, co, co, 1)]
            layers.append(_bn(g, co, training))
            shortcut = None
            if (ci, s) != (co, 1):
                shortcut = Make(
                    "conv2d",
                    {"c_in": ci, "c_out": co, "k": 1, "stride": s, "padding": 0,
                     "state": {"weight": randn(g, co, ci, 1, 1)}},
                )  # fmt: skip
            calls.append(Call("residual_forward", (x, *layers, shortcut), atol=1e-5))
    return calls


@question("modern-cnn-transfer-tests")
def _transfer(g):
    state = {
        "backbone.1.weight": randn(g, 16, 64, scale=0.1),
        "backbone.1.bias": randn(g, 16),
        "head.weight": randn(g, 5, 16),
        "head.bias": randn(g, 5),
    }
    n = integer(g, 2, 9)
    return [Call("prepare_for_transfer", (Make("transfer_net", {"state": state}), n),
                 probe="transfer_summary")]  # fmt: skip


def _few_shot_judge(calls, got, expected):
    for call, outcome, want in zip(calls, got, expected, strict=True):
        y, k = call.args[0], call.args[1]
        if "error" in want:
            if "error" not in outcome or "ValueError" not in outcome["error"][0]:
                return "few_shot_indices should raise ValueError when a class has fewer than k"
            continue
        if "error" in outcome:
            names, message = outcome["error"]
            return f"few_shot_indices raised {names[0]}: {message}"
        idx = outcome["value"]
        if not hasattr(idx, "shape") or idx.ndim != 1 or idx.dtype.kind not in "iu":
            return "few_shot_indices should return a 1-D tensor of indices"
        if len(set(idx.tolist())) != len(idx) or ((idx < 0) | (idx >= len(y))).any():
            return "few_shot_indices returned repeated or out-of-range indices"
        counts = torch.bincount(y[torch.as_tensor(idx)], minlength=int(y.max()) + 1)
        present = torch.bincount(y) > 0
        if not torch.all(counts[present] == k):
            return "few_shot_indices should return exactly k indices of every class"
    return None


@question("modern-cnn-few-shot-tests", judge=_few_shot_judge)
def _few_shot(g):
    y = randint(g, 0, 10, 600)
    y7 = torch.tensor([5, 5, 9, 9, 9, 7, 7])
    return [
        *[Call("few_shot_indices", (y, k), {"seed": integer(g, 0, 100)}) for k in (1, 10, 30)],
        Call("few_shot_indices", (y7, 2), {"seed": 0}),
        Call("few_shot_indices", (y, 200)),
    ]


# The analysis question of 07_modern_cnns (its derivation is in the solution notebook).
answer("modern-cnn-bottleneck-params-answer-tests", "answer_q5", 70400)
