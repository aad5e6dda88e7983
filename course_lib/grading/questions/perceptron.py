"""Visible checks for the perceptron and Adaline exercises (chapter 02)."""

import math

import torch

from ..checks import case


@case("perceptron.predict", hint="sign(w . x + b) for every row of X; a score of exactly 0 is +1.")
def labels_on_a_small_example(predict):
    w, b = torch.tensor([1.0, -2.0]), 0.5
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    got = torch.as_tensor(predict(w, b, X))
    assert got.shape == (3,), (
        f"expected one label per row (shape (3,)), got shape {tuple(got.shape)}"
    )
    assert set(got.tolist()) <= {-1, 1}, f"labels must be -1 or +1, got {got.tolist()}"
    assert got.tolist() == [1, -1, 1], "some labels are wrong on a 3-point example"


@case("perceptron.predict", hint="Points exactly on the boundary (score 0) belong to class +1.")
def boundary_points_are_positive(predict):
    got = torch.as_tensor(predict(torch.tensor([1.0, 1.0]), -2.0, torch.tensor([[1.0, 1.0]])))
    assert got.tolist() == [1], "a point with score exactly 0 should get label +1"


@case(
    "perceptron.update",
    hint="Update only when y (w . x + b) <= 0, then add lr*y*x to w and lr*y to b.",
)
def no_change_when_correct(update):
    w, b = torch.tensor([1.0, 1.0]), 0.0
    new_w, new_b = update(w, b, torch.tensor([2.0, 1.0]), 1, 1.0)
    assert torch.equal(torch.as_tensor(new_w), w) and new_b == b, (
        "a correctly classified example must leave w and b unchanged"
    )


@case("perceptron.update", hint="On a mistake: w <- w + lr*y*x and b <- b + lr*y.")
def moves_on_a_mistake(update):
    w, b = torch.tensor([1.0, 1.0]), 0.0
    new_w, new_b = update(w, b, torch.tensor([2.0, 1.0]), -1, 0.5)
    assert not torch.equal(torch.as_tensor(new_w), w), "a misclassified example must change w"
    score_before = -1 * (w @ torch.tensor([2.0, 1.0]) + b)
    score_after = -1 * (torch.as_tensor(new_w) @ torch.tensor([2.0, 1.0]) + new_b)
    assert score_after > score_before, "after the update the example should be more on its side"


@case("perceptron.update", hint="A score of exactly 0 counts as a mistake (y (w . x + b) <= 0).")
def boundary_counts_as_mistake(update):
    new_w, new_b = update(torch.zeros(2), 0.0, torch.tensor([1.0, 2.0]), 1, 1.0)
    assert torch.as_tensor(new_w).abs().sum() > 0, "starting from w = 0 every example is a mistake"


@case(
    "perceptron.bound",
    hint="R = largest norm of a row of X; gamma = min_i y_i (u . x_i) with u = w*/||w*||.",
)
def bound_on_a_small_example(bound):
    X = torch.tensor([[1.0, 0.5], [-1.0, -0.25], [2.0, -0.5]])
    y = torch.tensor([1, -1, 1])
    got = bound(X, y, torch.tensor([2.0, 0.0]))
    assert isinstance(got, int), f"return an int (a number of mistakes), got {type(got).__name__}"
    assert got == math.ceil(4.25 / 1.0), (
        "wrong bound on a 3-point example: check R (the largest norm of a row) and gamma "
        "(computed with w_star scaled to unit length)"
    )


@case("perceptron.bound", hint="Raise ValueError when w_star does not separate the data.")
def rejects_non_separating_direction(bound):
    X, y = torch.tensor([[1.0, 0.0], [2.0, 0.0]]), torch.tensor([1, -1])
    try:
        bound(X, y, torch.tensor([1.0, 0.0]))
    except ValueError:
        return
    raise AssertionError(
        "w_star misclassifies a point, so the bound does not apply: raise ValueError"
    )


@case("perceptron.lms_step", hint="e = d - w . x, then w <- w + mu * e * x; return (new_w, e).")
def one_step(lms_step):
    w, x = torch.tensor([0.5, -0.5]), torch.tensor([1.0, 2.0])
    new_w, e = lms_step(w, x, 1.0, 0.1)
    assert abs(float(e) - 1.5) < 1e-6, "the error e should be d minus the filter's prediction w . x"
    assert torch.as_tensor(new_w).shape == (2,), "new_w must have the shape of w"
    assert not torch.allclose(torch.as_tensor(new_w), w), "w must move when the error is not zero"


@case("perceptron.lms_step", hint="Return a new tensor; don't modify w in place.")
def does_not_modify_input(lms_step):
    w = torch.tensor([0.5, -0.5])
    lms_step(w, torch.tensor([1.0, 2.0]), 1.0, 0.1)
    assert torch.equal(w, torch.tensor([0.5, -0.5])), "lms_step changed its input w in place"
