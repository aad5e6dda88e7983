"""The from-scratch optimizers reproduce torch.optim's trajectories step by step."""

import math

import pytest
import torch
from tolerances import assert_close

from course_lib import optim

# (our class, torch class, keyword arguments shared by both)
CASES = [
    ("sgd", optim.SGD, torch.optim.SGD, dict(lr=1e-3)),
    ("sgd_wd", optim.SGD, torch.optim.SGD, dict(lr=1e-3, weight_decay=0.1)),
    ("heavy_ball", optim.SGD, torch.optim.SGD, dict(lr=1e-3, momentum=0.9)),
    ("nesterov", optim.SGD, torch.optim.SGD, dict(lr=1e-3, momentum=0.9, nesterov=True)),
    ("adagrad", optim.AdaGrad, torch.optim.Adagrad, dict(lr=0.1)),
    ("rmsprop", optim.RMSprop, torch.optim.RMSprop, dict(lr=1e-2)),
    ("adam", optim.Adam, torch.optim.Adam, dict(lr=1e-2)),
    ("adam_l2", optim.Adam, torch.optim.Adam, dict(lr=1e-2, weight_decay=0.1)),
    ("adamw", optim.AdamW, torch.optim.AdamW, dict(lr=1e-2, weight_decay=0.1)),
]


@pytest.mark.parametrize("name,ours,theirs,kwargs", CASES, ids=[c[0] for c in CASES])
def test_rosenbrock_trajectory_matches_torch(name, ours, theirs, kwargs):
    w0 = torch.tensor([-1.5, 2.0], dtype=torch.float64)
    a = optim.trajectory(lambda p: ours(p, **kwargs), optim.rosenbrock, w0, 100)
    b = optim.trajectory(lambda p: theirs(p, **kwargs), optim.rosenbrock, w0, 100)
    assert a.shape == (101, 2)
    assert (a[-1] - a[0]).norm() > 1e-3  # it really moved
    torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,ours,theirs,kwargs", CASES, ids=[c[0] for c in CASES])
def test_small_model_matches_torch_float32(name, ours, theirs, kwargs):
    """Several parameter tensors, a real loss, float32, 100 steps.

    Each step's gradient sums over the 64 examples, and the steps compound the rounding
    differences, so the tolerance grows with steps x batch (the float64 trajectory test above
    is the tight check of the update rules)."""
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(64, 5, generator=gen)
    y = torch.randint(0, 3, (64,), generator=gen)
    torch.manual_seed(1)
    model_a = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    model_b = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    model_b.load_state_dict(model_a.state_dict())
    opt_a = ours(model_a.parameters(), **kwargs)
    opt_b = theirs(model_b.parameters(), **kwargs)
    for _ in range(100):
        for model, opt in ((model_a, opt_a), (model_b, opt_b)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(X), y).backward()
            opt.step()
    for pa, pb in zip(model_a.parameters(), model_b.parameters(), strict=True):
        assert_close(pa, pb, ops=100 * 64, factor=1.0)


def test_polyak_form_equals_torch_form():
    """m = mu m + lr g, w -= m  is the same as torch's v = mu v + g, w -= lr v."""
    f = optim.quadratic(torch.diag(torch.tensor([1.0, 10.0], dtype=torch.float64)))
    w0 = torch.tensor([1.0, 1.0], dtype=torch.float64)
    ours = optim.trajectory(lambda p: optim.SGD(p, lr=0.05, momentum=0.8), f, w0, 30)
    w, m, path = w0.clone(), torch.zeros(2, dtype=torch.float64), [w0.clone()]
    for _ in range(30):
        g = torch.func.grad(f)(w)
        m = 0.8 * m + 0.05 * g
        w = w - m
        path.append(w.clone())
    torch.testing.assert_close(ours, torch.stack(path))


def test_schedules_match_torch_schedulers():
    def torch_factors(make_sched, steps):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=1.0)
        sched = make_sched(opt)
        out = []
        for _ in range(steps):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return out

    steps = 50
    step_t = torch_factors(lambda o: torch.optim.lr_scheduler.StepLR(o, 10, 0.5), steps)
    cos_t = torch_factors(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, steps), steps)
    for t in range(steps):
        assert math.isclose(optim.step_schedule(t, 10, 0.5), step_t[t], rel_tol=1e-9)
        assert math.isclose(optim.cosine_schedule(t, steps), cos_t[t], abs_tol=1e-9)
    warm = [optim.warmup_cosine_schedule(t, 5, steps) for t in range(steps)]
    assert warm[0] == pytest.approx(0.2) and warm[4] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(warm[4:], warm[5:], strict=False))


def test_newton_solves_quadratic_in_one_step():
    A = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    b = torch.tensor([1.0, -2.0], dtype=torch.float64)
    f = lambda w: 0.5 * w @ A @ w - b @ w  # noqa: E731
    w1 = optim.newton_step(f, torch.tensor([5.0, 5.0], dtype=torch.float64))
    torch.testing.assert_close(w1, torch.linalg.solve(A, b))


def test_bad_arguments_are_named():
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="lr"):
        optim.SGD([w], lr=-0.1)
    optim.SGD([w], lr=0.0)  # torch allows lr = 0
    with pytest.raises(ValueError, match="eps"):
        optim.AdaGrad([w], eps=-1)
    with pytest.raises(ValueError, match="momentum"):
        optim.SGD([w], lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match="params"):
        optim.Adam([], lr=0.1)
    with pytest.raises(TypeError, match="requires_grad"):
        optim.Adam([torch.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="warmup"):
        optim.warmup_cosine_schedule(0, 10, 5)


def test_zero_grad_like_torch_both_ways():
    """fit() calls zero_grad(set_to_none=True); False zeroes the gradient in place."""
    p = torch.ones(3, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.sum().backward()
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and torch.equal(p.grad, torch.zeros(3))
    opt.zero_grad()
    assert p.grad is None
