"""Regularisation, written out: dropout, L1/L2 penalties, the lasso, gradient clipping,
augmentation of small images, ensembles, and random-feature regression for double descent.
"""

import math

import numpy as np
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


@torch.no_grad()
def mc_dropout_probs(model: nn.Module, X: torch.Tensor, passes: int = 50) -> torch.Tensor:
    """Softmax outputs of ``passes`` stochastic forward passes with dropout left on, (T, N, C).

    Monte Carlo dropout (Gal and Ghahramani, 2016): every pass draws new dropout masks, so the
    T outputs are samples from an approximate posterior predictive. Only the dropout layers
    (ours and ``torch.nn.Dropout``) are put in training mode; everything else (batch norm)
    stays in evaluation mode. The T passes run as one batch of T copies of X, which gives each
    copy its own masks. The model's modes are restored afterwards.
    """
    check_tensor("X", X, ndim=2, dtype="floating")
    if not isinstance(passes, int) or passes < 1:
        raise ValueError(f"passes must be a positive int, got {passes!r}")
    modes = {m: m.training for m in model.modules()}
    dropouts = [m for m in model.modules() if isinstance(m, Dropout | nn.Dropout)]
    if not dropouts:
        raise ValueError("model has no Dropout layer: every pass would give the same output")
    model.eval()
    for m in dropouts:
        m.train()
    try:
        logits = model(X.repeat(passes, 1))
    finally:
        for m, mode in modes.items():
            m.train(mode)
    return torch.softmax(logits, dim=1).reshape(passes, len(X), -1)


def predictive_uncertainty(probs: torch.Tensor) -> dict:
    """Uncertainty scores per input from sampled class probabilities ``probs`` (T, N, C).

    With the mean prediction pbar = (1/T) sum_t p_t:
        entropy         H[pbar] = -sum_c pbar_c log pbar_c      (total uncertainty)
        expected        (1/T) sum_t H[p_t]                       (what each pass is unsure of)
        mutual_info     H[pbar] - expected >= 0                  (how much the passes disagree)
    """
    check_tensor("probs", probs, ndim=3, dtype="floating")

    def entropy(p):
        return -(p * torch.log(p.clamp_min(1e-12))).sum(-1)

    total = entropy(probs.mean(0))
    expected = entropy(probs).mean(0)
    return {"entropy": total, "expected": expected, "mutual_info": total - expected}


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


def elastic_net(
    X: torch.Tensor,
    y: torch.Tensor,
    alpha: float,
    l1_ratio: float = 0.5,
    *,
    sweeps: int = 10000,
    tol: float = 1e-10,
) -> torch.Tensor:
    """Minimise (1 / 2n) ||y - X w||^2 + alpha * rho ||w||_1 + alpha * (1 - rho) / 2 ||w||^2.

    rho = ``l1_ratio`` mixes the penalties: rho = 1 is the lasso, rho = 0 ridge (the convention
    of ``sklearn.linear_model.ElasticNet(alpha, l1_ratio=rho, fit_intercept=False)``).
    Cyclic coordinate descent: with all other weights fixed, weight j has the closed form
        w_j = S(x_j . r_j / n, alpha rho) / (||x_j||^2 / n + alpha (1 - rho)),
    where r_j = y - X w + x_j w_j is the residual without feature j and S the soft threshold.
    Sweeps over all j stop when no weight moved by more than ``tol``.
    """
    check_tensor("X", X, ndim=2, dtype="floating")
    check_tensor("y", y, shape=(X.shape[0],), dtype=X.dtype)
    check_positive("alpha", alpha, allow_zero=True)
    if not 0 <= l1_ratio <= 1:
        raise ValueError(f"l1_ratio must lie in [0, 1], got {l1_ratio}")
    n, d = X.shape
    # Work on the Gram matrix X^T X / n and X^T y / n: x_j . r_j / n = c_j - G_j . w + G_jj w_j.
    # NumPy scalars, because a sweep is d tiny updates and torch's per-call overhead dominates.
    gram = (X.T @ X / n).cpu().double().numpy()
    corr = (X.T @ y / n).cpu().double().numpy()
    denom = gram.diagonal() + alpha * (1 - l1_ratio)
    if (denom == 0).any():
        raise ValueError("X has an all-zero column and the penalty has no L2 part: w is undefined")
    threshold = alpha * l1_ratio
    w = np.zeros(d)
    for _ in range(sweeps):
        largest_move = 0.0
        for j in range(d):
            z = corr[j] - gram[j] @ w + gram[j, j] * w[j]
            new = np.sign(z) * max(abs(z) - threshold, 0.0) / denom[j]
            largest_move = max(largest_move, abs(new - w[j]))
            w[j] = new
        if largest_move <= tol:
            break
    return torch.from_numpy(w).to(X.device, X.dtype)


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
