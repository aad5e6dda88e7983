"""Visible checks for the optimisation exercises (chapter 04)."""

import math

import torch

from ..checks import case


def _torch_adam(w, grads, **kw):
    p = w.clone().requires_grad_(True)
    opt = torch.optim.Adam([p], **kw)
    for g in grads:
        p.grad = g.clone()
        opt.step()
    return p.detach(), opt.state[p]["exp_avg"], opt.state[p]["exp_avg_sq"]


def _run_adam(adam_step, w, grads, **kw):
    m, v = torch.zeros_like(w), torch.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        w, m, v = adam_step(w, g, m, v, t, **kw)
    return torch.as_tensor(w), torch.as_tensor(m), torch.as_tensor(v)


@case(
    "optim.adam_step",
    hint="m and v are the raw (uncorrected) moments; only the step uses "
    "m / (1 - beta1**t) and v / (1 - beta2**t).",
)
def first_step_has_size_lr(adam_step):
    w = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    g = torch.tensor([0.5, -4.0, 1e-3], dtype=torch.float64)
    new_w, m, v = adam_step(
        w, g, torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64), 1, lr=0.1
    )
    step = (w - torch.as_tensor(new_w)).abs()
    assert torch.allclose(step, torch.full_like(step, 0.1), atol=1e-4), (
        "with bias correction, the very first step moves every coordinate by about lr"
    )
    assert torch.allclose(torch.as_tensor(m), 0.1 * g), "the first moment m after one step is wrong"


@case("optim.adam_step", hint="Follow torch: eps is added after the square root of v_hat.")
def ten_steps_match_torch(adam_step):
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(4, generator=gen, dtype=torch.float64)
    grads = [torch.randn(4, generator=gen, dtype=torch.float64) for _ in range(10)]
    ours = _run_adam(adam_step, w, grads, lr=0.05, beta1=0.8, beta2=0.99, eps=1e-8)
    ref = _torch_adam(w, grads, lr=0.05, betas=(0.8, 0.99), eps=1e-8)
    assert torch.allclose(ours[0], ref[0], atol=1e-10), (
        "w after 10 steps differs from torch.optim.Adam"
    )
    same_m = torch.allclose(ours[1], ref[1], atol=1e-12)
    assert same_m and torch.allclose(ours[2], ref[2], atol=1e-12), (
        "the moments m, v after 10 steps differ from torch's (are you storing corrected ones?)"
    )


@case("optim.adam_step", hint="Return new tensors; do not modify w, m or v in place.")
def inputs_are_not_modified(adam_step):
    w, g = torch.ones(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    m, v = torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    adam_step(w, g, m, v, 1)
    assert torch.equal(w, torch.ones(2, dtype=torch.float64)), "w was modified in place"
    assert torch.equal(m, torch.zeros(2, dtype=torch.float64)), "m was modified in place"


@case(
    "optim.momentum_step", hint="At the first step (v is None) the velocity is the gradient itself."
)
def first_step_is_plain_gd(momentum_step):
    w, g = torch.tensor([1.0, 2.0]), torch.tensor([0.5, -1.0])
    new_w, v = momentum_step(w, g, None, 0.1, 0.9)
    assert torch.allclose(torch.as_tensor(new_w), w - 0.1 * g), (
        "the first step should be w - lr * g"
    )
    assert torch.allclose(torch.as_tensor(v), g), "after the first step the velocity should equal g"


@case("optim.momentum_step", hint="torch's convention: v <- mu * v + g, then w <- w - lr * v.")
def matches_torch_sgd_momentum(momentum_step):
    gen = torch.Generator().manual_seed(1)
    w0 = torch.randn(3, generator=gen, dtype=torch.float64)
    grads = [torch.randn(3, generator=gen, dtype=torch.float64) for _ in range(8)]
    p = w0.clone().requires_grad_(True)
    opt = torch.optim.SGD([p], lr=0.05, momentum=0.7)
    w, v = w0.clone(), None
    for g in grads:
        p.grad = g.clone()
        opt.step()
        w, v = momentum_step(w, g, v, 0.05, 0.7)
    assert torch.allclose(torch.as_tensor(w), p.detach(), atol=1e-12), (
        "after 8 steps w differs from torch.optim.SGD(momentum=0.7)"
    )


@case("optim.warmup_cosine", hint="During warm-up: base_lr * (t + 1) / warmup.")
def warmup_is_linear(warmup_cosine):
    lrs = [warmup_cosine(t, 4, 20, 0.8) for t in range(4)]
    expected = [0.2, 0.4, 0.6, 0.8]
    assert all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(lrs, expected, strict=True)), (
        "the learning rate during the 4 warm-up steps is not the expected linear ramp"
    )


@case(
    "optim.warmup_cosine",
    hint="After warm-up, s = t - warmup runs from 0 to total - warmup: "
    "base_lr * (1 + cos(pi * s / (total - warmup))) / 2.",
)
def cosine_after_warmup(warmup_cosine):
    assert math.isclose(warmup_cosine(4, 4, 20, 0.8), 0.8, rel_tol=1e-9), (
        "right after warm-up the rate should be the full base rate"
    )
    assert math.isclose(warmup_cosine(12, 4, 20, 0.8), 0.4, rel_tol=1e-9), (
        "half-way through the cosine phase the rate should be half the base rate"
    )
    assert abs(warmup_cosine(20, 4, 20, 0.8)) < 1e-12, "at t = total the rate should reach 0"
