"""Regularisation, written out: dropout, L1/L2 penalties, the lasso, gradient clipping,
augmentation of small images, ensembles, and random-feature regression for double descent.
"""

import math

import torch
from torch import nn

from .validation import check_positive, check_tensor

# --- dropout ---


def dropout_mask(shape, p: float, *, generator=None, device=None) -> torch.Tensor:
    """A 0/1 float mask that keeps each unit with probability 1 - p."""
    if not 0 <= p < 1:
        raise ValueError(f"p (the drop probability) must lie in [0, 1), got {p}")
    return (torch.rand(shape, generator=generator).to(device) >= p).float()


def inverted_dropout(x: torch.Tensor, p: float, training: bool, mask=None) -> torch.Tensor:
    """Inverted dropout, as ``torch.nn.Dropout``: drop with probability p and rescale.

    training:   y = x * mask / (1 - p)      mask_i ~ Bernoulli(1 - p)
    evaluation: y = x                       (E[y] = x already holds in training)
    """
    if not 0 <= p < 1:
        raise ValueError(f"p (the drop probability) must lie in [0, 1), got {p}")
    if not training or p == 0:
        return x
    if mask is None:
        mask = dropout_mask(x.shape, p, device=x.device)
    if mask.shape != x.shape:
        raise ValueError(f"mask shape {tuple(mask.shape)} must equal x shape {tuple(x.shape)}")
    return x * mask / (1 - p)


def original_dropout(x: torch.Tensor, p: float, training: bool, mask=None) -> torch.Tensor:
    """Dropout as first described: y = x * mask in training, y = (1 - p) x at test time."""
    if not 0 <= p < 1:
        raise ValueError(f"p (the drop probability) must lie in [0, 1), got {p}")
    if not training:
        return (1 - p) * x
    if mask is None:
        mask = dropout_mask(x.shape, p, device=x.device)
    return x * mask


class Dropout(nn.Module):
    """Module form of ``inverted_dropout`` (follows ``model.train()`` / ``model.eval()``)."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"p (the drop probability) must lie in [0, 1), got {p}")
        self.p = p

    def forward(self, x):
        return inverted_dropout(x, self.p, self.training)


# --- penalties and the lasso ---


def weight_penalty(model: nn.Module, kind: str = "l2") -> torch.Tensor:
    """Sum over weight matrices (not biases) of w^2 ("l2") or |w| ("l1")."""
    if kind not in ("l1", "l2"):
        raise ValueError(f"kind must be 'l1' or 'l2', got {kind!r}")
    weights = [p for p in model.parameters() if p.ndim > 1]
    if kind == "l2":
        return sum((w**2).sum() for w in weights)
    return sum(w.abs().sum() for w in weights)


def soft_threshold(w: torch.Tensor, t: float) -> torch.Tensor:
    """The proximal step of t * |w|: sign(w) * max(|w| - t, 0). It sets small weights to 0."""
    return torch.sign(w) * torch.clamp(w.abs() - t, min=0)


def lasso(X: torch.Tensor, y: torch.Tensor, alpha: float, *, steps: int = 2000) -> torch.Tensor:
    """Minimise (1 / 2n) ||y - X w||^2 + alpha ||w||_1 by proximal gradient descent (ISTA).

    Each step is a gradient step on the squared error with step 1/L (L the largest eigenvalue
    of X^T X / n), followed by soft-thresholding at alpha / L. Same objective as
    ``sklearn.linear_model.Lasso(alpha, fit_intercept=False)``.
    """
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"need X (n, d) and y (n,), got {tuple(X.shape)} and {tuple(y.shape)}")
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    n = X.shape[0]
    L = torch.linalg.eigvalsh(X.T @ X / n).max()
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    for _ in range(steps):
        grad = X.T @ (X @ w - y) / n
        w = soft_threshold(w - grad / L, alpha / L)
    return w


def ridge(X: torch.Tensor, y: torch.Tensor, alpha: float) -> torch.Tensor:
    """Minimise (1 / 2n) ||y - X w||^2 + (alpha / 2) ||w||^2.

    Closed form: w = (X^T X / n + alpha I)^-1 X^T y / n.
    """
    check_tensor("X", X, ndim=2, dtype="floating")
    check_tensor("y", y, ndim=(1, 2), dtype=X.dtype)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have {X.shape[0]} rows like X, got shape {tuple(y.shape)}")
    check_positive("alpha", alpha, allow_zero=True)
    n, d = X.shape
    return torch.linalg.solve(
        X.T @ X / n + alpha * torch.eye(d, dtype=X.dtype, device=X.device), X.T @ y / n
    )


# --- gradient clipping ---


def clip_grad_norm(params, max_norm: float) -> float:
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

        ||g|| = sqrt(sum_p ||g_p||^2);   if ||g|| > max_norm:  g <- g * max_norm / ||g||

    The direction is kept; only the length is capped. Returns the norm before clipping
    (as ``torch.nn.utils.clip_grad_norm_``, which also adds 1e-6 to the denominator).
    """
    if max_norm <= 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm}")
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    total = torch.sqrt(sum((g.detach() ** 2).sum() for g in grads))
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(scale)
    return total.item()


# --- data augmentation for small images ---


def random_shift(images: torch.Tensor, max_shift: int = 1, *, generator=None) -> torch.Tensor:
    """Translate each image (N, C, H, W) by a random whole number of pixels in
    [-max_shift, max_shift] along each axis, filling with zeros."""
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {tuple(images.shape)}")
    N, _, H, W = images.shape
    k = max_shift
    padded = nn.functional.pad(images, (k, k, k, k))
    shifts = torch.randint(0, 2 * k + 1, (N, 2), generator=generator)
    rows = (torch.arange(H)[None, :] + shifts[:, :1]).to(images.device)  # (N, H)
    cols = (torch.arange(W)[None, :] + shifts[:, 1:]).to(images.device)  # (N, W)
    n_idx = torch.arange(N, device=images.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[n_idx, rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2)


# --- ensembles ---


@torch.no_grad()
def ensemble_probs(models, X: torch.Tensor) -> torch.Tensor:
    """Average of the members' softmax probabilities, (1/M) sum_m softmax(f_m(x))."""
    models = list(models)
    if not models:
        raise ValueError("models is empty")
    for m in models:
        m.eval()
    return torch.stack([torch.softmax(m(X), dim=1) for m in models]).mean(0)


# --- random features and minimum-norm least squares (double descent) ---


def random_relu_features(
    d: int, n_features: int, *, generator=None, device=None, dtype=torch.float64
):
    """Return phi with phi(X) = relu(X V^T / sqrt(d)) / sqrt(N), for a fixed Gaussian V (N, d).

    This is a one-hidden-layer network whose first layer is random and frozen; only the output
    weights a (in f(x) = phi(x) . a) are fitted. The same phi must map train and test data.
    """
    if n_features < 1 or d < 1:
        raise ValueError(f"d and n_features must be >= 1, got d={d}, n_features={n_features}")
    V = torch.randn(n_features, d, generator=generator, dtype=dtype).to(device)

    def phi(X: torch.Tensor) -> torch.Tensor:
        if X.ndim != 2 or X.shape[1] != d:
            raise ValueError(f"X must have shape (n, {d}), got {tuple(X.shape)}")
        return torch.relu(X.to(V) @ V.T / math.sqrt(d)) / math.sqrt(n_features)

    return phi


def min_norm_least_squares(Phi: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """a = pinv(Phi) y: the least-squares solution, and among all interpolating solutions
    (when there are more features than examples) the one of smallest ||a||_2."""
    return torch.linalg.pinv(Phi) @ y
