"""The perceptron (Rosenblatt 1958) and Adaline / least-mean-squares (Widrow and Hoff 1960).

Labels are +1 / -1 for the binary perceptron. Everything here is a plain loop over examples,
because the lesson is the update rule itself.
"""

from dataclasses import dataclass, field

import numpy as np
import torch

from ..validation import check_tensor


def predict(w: torch.Tensor, b: float, X: torch.Tensor) -> torch.Tensor:
    """Perceptron output yhat = sign(w . x + b), with sign(0) = +1."""
    check_tensor("w", w, ndim=1)
    check_tensor("X", X, shape=(None, len(w)))
    scores = X @ w + b
    return torch.where(scores >= 0, 1, -1)


def update(w: torch.Tensor, b: float, x: torch.Tensor, y: int, lr: float = 1.0):
    """One perceptron step on example (x, y).

    If y (w . x + b) <= 0 (a mistake, or a point on the boundary) then
    w <- w + lr y x and b <- b + lr y; otherwise nothing changes.
    Returns (w, b, mistake).
    """
    if y * (torch.dot(w, x) + b) <= 0:
        return w + lr * y * x, b + lr * y, True
    return w, b, False


@dataclass
class PerceptronRun:
    """What a training run did: final weights, mistakes made, and whether it converged."""

    w: torch.Tensor
    b: float
    mistakes: int
    epochs: int
    converged: bool
    history: list = field(default_factory=list)  # (w, b) after every mistake


def train_perceptron(
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    max_epochs: int = 100,
    lr: float = 1.0,
    bias: bool = True,
    record: bool = False,
) -> PerceptronRun:
    """Cycle through the data, applying ``update`` to each example, until an epoch without a
    mistake (convergence) or ``max_epochs`` epochs.

    ``y`` must hold labels in {-1, +1}. With ``bias=False`` the boundary passes through the
    origin, which is the setting of Novikoff's bound.
    """
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(
            f"need X of shape (N, d) and y of shape (N,); got {tuple(X.shape)} and {tuple(y.shape)}"
        )
    if not bool(((y == 1) | (y == -1)).all()):
        raise ValueError("perceptron labels must be -1 or +1 (use 2*y - 1 for 0/1 labels)")
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    b, mistakes, history = 0.0, 0, []
    for epoch in range(1, max_epochs + 1):
        epoch_mistakes = 0
        for x_i, y_i in zip(X, y.tolist(), strict=True):
            w, new_b, mistake = update(w, b, x_i, y_i, lr)
            b = new_b if bias else 0.0
            if mistake:
                epoch_mistakes += 1
                if record:
                    history.append((w.clone(), b))
        mistakes += epoch_mistakes
        if epoch_mistakes == 0:
            return PerceptronRun(w, b, mistakes, epoch, True, history)
    return PerceptronRun(w, b, mistakes, max_epochs, False, history)


def novikoff_bound(X: torch.Tensor, y: torch.Tensor, w_star: torch.Tensor) -> int:
    """Novikoff's bound on the number of perceptron mistakes (no bias): ceil(R^2 / gamma^2),

    with R = max_i ||x_i|| and gamma = min_i y_i (u . x_i) for the unit vector u = w*/||w*||.
    Raises if w* does not separate the data (gamma <= 0).
    """
    u = w_star / w_star.norm()
    gamma = (y * (X @ u)).min().item()
    if gamma <= 0:
        raise ValueError(f"w_star does not separate the data (margin {gamma:.3g} <= 0)")
    R = X.norm(dim=1).max().item()
    return int(np.ceil(R**2 / gamma**2))


def train_multiclass_perceptron(
    X: torch.Tensor, y: torch.Tensor, num_classes: int, *, epochs: int = 10
) -> torch.Tensor:
    """Multi-class perceptron: one weight row per class, prediction argmax_k W_k . x.

    On a mistake (prediction p != y): W_y <- W_y + x and W_p <- W_p - x.
    Returns W of shape (num_classes, d + 1); the last column is the bias.
    """
    Xb = torch.cat([X, torch.ones(X.shape[0], 1, dtype=X.dtype, device=X.device)], dim=1)
    W = torch.zeros(num_classes, Xb.shape[1], dtype=X.dtype, device=X.device)
    for _ in range(epochs):
        for x_i, y_i in zip(Xb, y.tolist(), strict=True):
            p = int(torch.argmax(W @ x_i))
            if p != y_i:
                W[y_i] += x_i
                W[p] -= x_i
    return W


def predict_multiclass(W: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Labels argmax_k (W_k . [x, 1])."""
    Xb = torch.cat([X, torch.ones(X.shape[0], 1, dtype=X.dtype, device=X.device)], dim=1)
    return (Xb @ W.T).argmax(dim=1)


def train_adaline(X: torch.Tensor, y: torch.Tensor, *, lr: float = 0.01, epochs: int = 20):
    """Adaline: the LMS rule w <- w + lr (y - (w . x + b)) x applied example by example.

    Unlike the perceptron it learns from the linear output, not the thresholded one, so it
    minimises the squared error sum_i (y_i - w . x_i - b)^2 and keeps moving even on
    correctly classified points. Returns (w, b, mse per epoch).
    """
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    b, losses = 0.0, []
    for _ in range(epochs):
        for x_i, y_i in zip(X, y.tolist(), strict=True):
            error = y_i - (torch.dot(w, x_i).item() + b)
            w = w + lr * error * x_i
            b = b + lr * error
        losses.append(((y - (X @ w + b)) ** 2).mean().item())
    return w, b, losses


def lms_filter(
    reference: np.ndarray,
    primary: np.ndarray,
    *,
    taps: int = 8,
    mu: float = 0.02,
    normalized: bool = False,
    eps: float = 1e-2,
):
    """Adaptive FIR filter trained online with (normalised) LMS, as in a noise canceller.

    At time t the filter sees the last ``taps`` reference samples x_t and predicts
    yhat_t = w . x_t; the error e_t = d_t - yhat_t (d = primary) drives
    w <- w + mu e_t x_t (LMS) or w <- w + mu e_t x_t / (eps + ||x_t||^2) (normalised LMS).
    In a noise canceller e_t is the cleaned signal. Returns (yhat, e, w).
    """
    reference = np.asarray(reference, dtype=float)
    primary = np.asarray(primary, dtype=float)
    if reference.shape != primary.shape or reference.ndim != 1:
        raise ValueError(
            f"reference and primary must be 1-D of equal length, got "
            f"{reference.shape} and {primary.shape}"
        )
    w = np.zeros(taps)
    padded = np.concatenate([np.zeros(taps - 1), reference])
    yhat, e = np.zeros_like(primary), np.zeros_like(primary)
    for t in range(len(primary)):
        x_t = padded[t : t + taps][::-1]  # newest sample first
        yhat[t] = w @ x_t
        e[t] = primary[t] - yhat[t]
        step = mu / (eps + x_t @ x_t) if normalized else mu
        w += step * e[t] * x_t
    return yhat, e, w
