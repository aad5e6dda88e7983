"""Specs of 07b_dense_vision."""

import torch

from . import Call, answer, question
from ._inputs import integer, randint

F64 = torch.float64


def _boxes(g, n, size=12.0):
    xy = torch.rand(n, 2, generator=g, dtype=F64) * size
    return torch.cat([xy, xy + torch.rand(n, 2, generator=g, dtype=F64) * size / 2], 1)


@question("dense-vision-iou-tests")
def _iou(g):
    calls = [
        Call("box_iou", (_boxes(g, n), _boxes(g, m)), atol=1e-9)
        for n, m in [(1, 1), (6, 9), (15, 4)]
    ]
    empty = torch.tensor([[2.0, 2, 2, 2], [0, 0, 3, 3]], dtype=F64)
    return [*calls, Call("box_iou", (empty, empty), atol=1e-9)]


@question("dense-vision-nms-tests")
def _nms(g):
    calls = []
    for n, threshold in [(20, 0.5), (30, 0.3), (25, 0.7), (10, 0.0)]:
        scores = torch.rand(n, generator=g, dtype=F64)
        calls.append(Call("nms", (_boxes(g, n, size=8.0), scores, threshold), rtol=0, atol=0))
    tied = torch.tensor([[0.0, 0, 4, 4], [0, 0, 4, 4], [1, 0, 5, 4]], dtype=F64)
    calls.append(Call("nms", (tied, torch.tensor([0.5, 0.5, 0.5], dtype=F64), 0.5), rtol=0, atol=0))
    return calls


@question("dense-vision-mean-iou-tests")
def _mean_iou(g):
    calls = []
    for k in (2, 4, 6):
        truth = randint(g, 0, k, 3, 8, 8)
        pred = torch.where(torch.rand(3, 8, 8, generator=g) < 0.7, truth, randint(g, 0, k, 3, 8, 8))
        calls.append(Call("mean_iou", (pred, truth, k + integer(g, 0, 3)), atol=1e-12))
    return calls


# The analysis question of 07b_dense_vision (its derivation is in the solution notebook).
answer("dense-vision-dilated-field-answer-tests", "answer_q4", 16)
