"""Visible checks for chapter 07b (vision beyond classification)."""

import torch

from ..checks import case


def _boxes(g, n, size=10.0):
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * size
    return torch.cat([xy, xy + torch.rand(n, 2, generator=g, dtype=torch.float64) * size / 2], 1)


def _brute_iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


# ----------------------------------------------------------------------------- box_iou
@case("dense_vision.box_iou", hint="The result has one row per box of a, one column per box of b.")
def iou_shape(fn):
    g = torch.Generator().manual_seed(0)
    out = fn(_boxes(g, 3), _boxes(g, 5))
    assert tuple(out.shape) == (3, 5), f"expected shape (3, 5), got {tuple(out.shape)}"


@case("dense_vision.box_iou", hint="Intersection / (area A + area B - intersection).")
def iou_worked_example(fn):
    a = torch.tensor([[0.0, 0, 10, 10]])
    b = torch.tensor([[5.0, 0, 15, 10], [0, 0, 10, 10]])
    out = fn(a, b)
    assert torch.allclose(out, torch.tensor([[50 / 150, 1.0]])), "wrong for two simple boxes"


@case("dense_vision.box_iou", hint="Clamp the intersection's width and height at 0.")
def iou_disjoint(fn):
    a = torch.tensor([[0.0, 0, 1, 1]])
    b = torch.tensor([[1.0, 0, 2, 1], [5, 5, 6, 6]])
    assert torch.equal(fn(a, b), torch.zeros(1, 2)), "boxes that do not overlap must give 0"


@case("dense_vision.box_iou", hint="Compare every box of a with every box of b.")
def iou_random(fn):
    g = torch.Generator().manual_seed(1)
    a, b = _boxes(g, 4), _boxes(g, 6)
    out = fn(a, b)
    want = torch.tensor(
        [[_brute_iou(x.tolist(), y.tolist()) for y in b] for x in a], dtype=out.dtype
    )
    assert torch.allclose(out, want), "wrong values on random boxes"


# ----------------------------------------------------------------------------- nms
@case("dense_vision.nms", hint="Keep the best box, drop the boxes that overlap it, repeat.")
def nms_worked_example(fn):
    boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]])
    out = fn(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5)
    assert torch.as_tensor(out).tolist() == [0, 2], "wrong on two overlapping boxes and one apart"


@case("dense_vision.nms", hint="Return the kept indices ordered by score, best first.")
def nms_order(fn):
    boxes = torch.tensor([[0.0, 0, 1, 1], [5, 5, 6, 6], [9, 9, 10, 10]])
    out = fn(boxes, torch.tensor([0.2, 0.9, 0.5]), 0.5)
    assert torch.as_tensor(out).tolist() == [1, 2, 0], (
        "boxes that do not overlap are all kept, best first"
    )


@case("dense_vision.nms", hint="Remove a box only when its IoU is *greater than* the threshold.")
def nms_threshold(fn):
    boxes = torch.tensor([[0.0, 0, 10, 10], [5, 0, 15, 10]])  # IoU 1/3
    scores = torch.tensor([0.9, 0.8])
    assert torch.as_tensor(fn(boxes, scores, 0.5)).tolist() == [0, 1], "IoU 1/3 < 0.5: keep both"
    assert torch.as_tensor(fn(boxes, scores, 0.3)).tolist() == [0], "IoU 1/3 > 0.3: keep one"


@case("dense_vision.nms", hint="Return an int64 tensor of indices.")
def nms_dtype(fn):
    out = fn(torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([0.5]), 0.5)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.int64, "expected an int64 tensor"


# ----------------------------------------------------------------------------- mean_iou
@case("dense_vision.mean_iou", hint="A perfect prediction has mean IoU 1.")
def miou_perfect(fn):
    t = torch.tensor([[0, 1], [2, 1]])
    got = fn(t, t, 3)
    assert isinstance(got, float), f"return a Python float, got {type(got).__name__}"
    assert abs(got - 1.0) < 1e-12, "wrong for a perfect prediction"


@case("dense_vision.mean_iou", hint="Per class: pixels in both / pixels in either; then average.")
def miou_example(fn):
    truth = torch.tensor([[0, 0, 1, 1]])
    pred = torch.tensor([[0, 1, 1, 1]])
    assert abs(fn(pred, truth, 2) - (1 / 2 + 2 / 3) / 2) < 1e-12, "wrong on a 1 x 4 example"


@case("dense_vision.mean_iou", hint="Leave out classes that appear in neither map.")
def miou_absent(fn):
    truth = torch.tensor([[0, 0, 1, 1]])
    pred = torch.tensor([[0, 1, 1, 1]])
    assert abs(fn(pred, truth, 4) - (1 / 2 + 2 / 3) / 2) < 1e-12, "classes 2 and 3 are absent"
