"""Optimizers written out from their equations, to read next to ``torch.optim``.

Each class follows PyTorch's conventions exactly (where epsilon goes, how momentum folds in the
learning rate, when the first momentum buffer is set), so that the same gradients give the
same parameter trajectory; ``tests/test_optim.py`` checks this against ``torch.optim``.

Usage is the same as for ``torch.optim``::

    opt = Adam([w], lr=0.01)
    loss = f(w); opt.zero_grad(); loss.backward(); opt.step()

Also here: learning-rate schedules (step, cosine, warm-up), Newton's method, and helpers that
run an optimizer on a test function (an ill-conditioned quadratic, Rosenbrock) and record the
trajectory.
"""

import math

import torch

from .validation import check_positive


class Optimizer:
    """Base class: holds the parameters, a per-parameter ``state`` dict and a step counter.

    ``t`` counts the calls to ``step``; a rule that needs the number of updates a parameter
    has had (Adam's bias correction) keeps its own count in that parameter's state, as
    torch does, because a parameter without a gradient is skipped."""

    def __init__(self, params, lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError(
                "params is empty: pass the tensors to optimize, e.g. model.parameters()"
            )
        for p in self.params:
            if not isinstance(p, torch.Tensor) or not p.requires_grad:
                raise TypeError("every parameter must be a tensor with requires_grad=True")
        check_positive("lr", lr, allow_zero=True)  # lr = 0 is allowed, as in torch
        self.lr = lr
        self.t = 0  # number of steps taken
        self.state = [{} for _ in self.params]

    def zero_grad(self, set_to_none: bool = True):
        """Forget the gradients (as torch.optim does, also with ``set_to_none=False``)."""
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self):
        self.t += 1
        for p, state in zip(self.params, self.state, strict=True):
            if p.grad is not None:
                self.update(p, p.grad, state)

    def update(self, p, g, state):  # pragma: no cover - each subclass writes its rule
        raise NotImplementedError


def _check_unit(name, value, *, closed=True):
    ok = 0 <= value < 1 if closed else 0 < value < 1
    if not ok:
        raise ValueError(f"{name} must lie in {'[0, 1)' if closed else '(0, 1)'}, got {value}")


class SGD(Optimizer):
    """Stochastic gradient descent with optional (heavy-ball or Nesterov) momentum.

    With g = grad + weight_decay * w:
        plain:     w <- w - lr * g
        momentum:  v <- mu * v + g          (v = g at the first step, as in torch)
                   w <- w - lr * v
        Nesterov:  w <- w - lr * (g + mu * v)

    Polyak's form m <- mu * m + lr * g, w <- w - m is the same rule with m = lr * v.
    """

    def __init__(
        self,
        params,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        _check_unit("momentum", momentum)
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.momentum, self.nesterov, self.weight_decay = momentum, nesterov, weight_decay

    def update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            if "v" not in state:
                state["v"] = g.clone()
            else:
                state["v"].mul_(self.momentum).add_(g)
            g = g + self.momentum * state["v"] if self.nesterov else state["v"]
        p.sub_(self.lr * g)


class AdaGrad(Optimizer):
    """One learning rate per coordinate, shrinking with the sum of squared gradients.

        r <- r + g * g
        w <- w - lr * g / (sqrt(r) + eps)

    torch puts eps outside the square root (and defaults it to 1e-10).
    """

    def __init__(self, params, lr: float = 0.01, eps: float = 1e-10):
        super().__init__(params, lr)
        self.eps = check_positive("eps", eps, allow_zero=True)

    def update(self, p, g, state):
        r = state.setdefault("r", torch.zeros_like(p))
        r.add_(g * g)
        p.sub_(self.lr * g / (r.sqrt() + self.eps))


class RMSprop(Optimizer):
    """AdaGrad with a leaky (exponential moving) average instead of a sum.

        r <- alpha * r + (1 - alpha) * g * g
        w <- w - lr * g / (sqrt(r) + eps)

    Defaults as in torch: alpha = 0.99, eps = 1e-8.
    """

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8):
        super().__init__(params, lr)
        _check_unit("alpha", alpha, closed=False)
        self.alpha, self.eps = alpha, check_positive("eps", eps, allow_zero=True)

    def update(self, p, g, state):
        r = state.setdefault("r", torch.zeros_like(p))
        r.mul_(self.alpha).add_((1 - self.alpha) * g * g)
        p.sub_(self.lr * g / (r.sqrt() + self.eps))


class Adam(Optimizer):
    """Momentum (first moment) plus RMSprop (second moment), both bias-corrected.

        m <- b1 * m + (1 - b1) * g          m_hat = m / (1 - b1**t)
        v <- b2 * v + (1 - b2) * g * g      v_hat = v / (1 - b2**t)
        w <- w - lr * m_hat / (sqrt(v_hat) + eps)

    t is the number of updates *this parameter* has had (its ``state["step"]``), as in torch:
    a parameter that gets no gradient on some steps is not bias-corrected as if it had.

    ``weight_decay`` adds weight_decay * w to g (an L2 penalty, *coupled* to the adaptive
    scaling); see ``AdamW`` for the decoupled version.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        _check_unit("betas[0]", betas[0])
        _check_unit("betas[1]", betas[1])
        check_positive("eps", eps, allow_zero=True)
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.betas, self.eps, self.weight_decay = betas, eps, weight_decay

    def moments(self, p, g, state):
        """Update the raw moments and return the step lr * m_hat / (sqrt(v_hat) + eps)."""
        b1, b2 = self.betas
        m = state.setdefault("m", torch.zeros_like(p))
        v = state.setdefault("v", torch.zeros_like(p))
        t = state["step"] = state.get("step", 0) + 1
        m.mul_(b1).add_((1 - b1) * g)
        v.mul_(b2).add_((1 - b2) * g * g)
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        return self.lr * m_hat / (v_hat.sqrt() + self.eps)

    def update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        p.sub_(self.moments(p, g, state))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter):

        w <- w * (1 - lr * weight_decay)      then the Adam step on the loss gradient alone.

    torch's default weight_decay for AdamW is 0.01.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ):
        super().__init__(params, lr, betas, eps, weight_decay=0.0)
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.decay = weight_decay

    def update(self, p, g, state):
        p.mul_(1 - self.lr * self.decay)
        p.sub_(self.moments(p, g, state))


OPTIMIZERS = {"sgd": SGD, "adagrad": AdaGrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}


# --- learning-rate schedules: the factor that multiplies the base learning rate at step t ---


def step_schedule(t: int, step_size: int, gamma: float = 0.1) -> float:
    """Step decay: gamma ** floor(t / step_size) (torch's StepLR)."""
    if step_size < 1:
        raise ValueError(f"step_size must be >= 1, got {step_size}")
    return gamma ** (t // step_size)


def cosine_schedule(t: int, total: int, min_factor: float = 0.0) -> float:
    """Cosine decay from 1 to min_factor over ``total`` steps:
    min + (1 - min) * (1 + cos(pi * t / total)) / 2   (torch's CosineAnnealingLR).

    Like CosineAnnealingLR it is periodic: past ``total`` it rises again, back to 1 at
    t = 2 total. Stop at ``total`` (or use ``warmup_cosine_schedule``) to stay at the minimum.
    """
    if total < 1:
        raise ValueError(f"total must be >= 1, got {total}")
    return min_factor + (1 - min_factor) * (1 + math.cos(math.pi * t / total)) / 2


def warmup_cosine_schedule(t: int, warmup: int, total: int, min_factor: float = 0.0) -> float:
    """Linear warm-up (t + 1) / warmup for the first ``warmup`` steps, then cosine decay.

    Unlike ``cosine_schedule`` it stays at min_factor for t >= total.
    """
    if not 0 <= warmup < total:
        raise ValueError(f"need 0 <= warmup < total, got warmup={warmup}, total={total}")
    if t < warmup:
        return (t + 1) / warmup
    return cosine_schedule(min(t, total) - warmup, total - warmup, min_factor)


# --- second order ---


def newton_step(f, w: torch.Tensor) -> torch.Tensor:
    """One Newton step w - H(w)^{-1} grad f(w), with the Hessian from autograd."""
    w = w.detach()
    g = torch.func.grad(f)(w)
    H = torch.func.hessian(f)(w)
    return w - torch.linalg.solve(H, g)


# --- test functions and trajectories ---


def quadratic(A: torch.Tensor):
    """Return f(w) = 1/2 w^T A w (A symmetric positive definite: minimum 0 at w = 0).

    ``w`` may carry leading batch dimensions (..., d), e.g. a grid of points for a contour plot.
    """
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be a square matrix, got shape {tuple(A.shape)}")

    def f(w):
        return 0.5 * ((w @ A.to(w)) * w).sum(-1)

    return f


def rosenbrock(w: torch.Tensor, a: float = 1.0, b: float = 100.0) -> torch.Tensor:
    """f(x, y) = (a - x)^2 + b (y - x^2)^2, a curved valley with its minimum 0 at (a, a^2)."""
    x, y = w[..., 0], w[..., 1]
    return (a - x) ** 2 + b * (y - x**2) ** 2


def trajectory(make_optimizer, f, w0, steps: int = 100) -> torch.Tensor:
    """Minimise ``f`` from ``w0`` with ``make_optimizer([w])`` (ours or torch.optim).

    Returns the (steps + 1, d) tensor of iterates, w0 first.
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    w = w0.detach().clone().requires_grad_(True)
    opt = make_optimizer([w])
    path = [w.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        f(w).backward()
        opt.step()
        path.append(w.detach().clone())
    return torch.stack(path)
