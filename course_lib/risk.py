"""Losses, risk and empirical risk, and the bias-variance decomposition.

A loss c(yhat, y) scores one prediction. The *risk* of a predictor F is its expected loss under
the data distribution, R(F) = E_{(x,y)~p}[c(F(x), y)]; the *empirical risk* on a sample
D = {(x_i, y_i)}_{i=1..N} is its average, R_emp(F) = (1/N) sum_i c(F(x_i), y_i).

The toy problems here have a known distribution, so true risks can be computed exactly and
compared with Monte-Carlo estimates.
"""

import math

import torch


def zero_one_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """c(yhat, y) = 0 if yhat = y else 1, per example (float tensor of shape (N,))."""
    if pred.shape != target.shape:
        raise ValueError(f"pred has shape {tuple(pred.shape)} but target {tuple(target.shape)}")
    return (pred != target).float()


def squared_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """c(yhat, y) = (y - yhat)^2, per example."""
    if pred.shape != target.shape:
        raise ValueError(f"pred has shape {tuple(pred.shape)} but target {tuple(target.shape)}")
    return (target - pred) ** 2


def gaussian_neg_log_density(x: torch.Tensor, mean, std) -> torch.Tensor:
    """c(x) = -ln p(x) for p = N(mean, std^2): ln(std sqrt(2 pi)) + (x - mean)^2 / (2 std^2).

    The loss of density estimation; summed over a sample it is the negative log-likelihood.
    """
    std = torch.as_tensor(std, dtype=x.dtype, device=x.device)
    if torch.any(std <= 0):
        raise ValueError("std must be > 0")
    return torch.log(std * math.sqrt(2 * math.pi)) + (x - mean) ** 2 / (2 * std**2)


def empirical_risk(loss, predict, X: torch.Tensor, y: torch.Tensor) -> float:
    """R_emp = (1/N) sum_i loss(predict(X)_i, y_i) for a per-example ``loss``."""
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}; they must match")
    if y.shape[0] == 0:
        raise ValueError("the empirical risk of an empty sample is undefined")
    return loss(predict(X), y).mean().item()


# --- a classification problem with a known distribution ------------------------------------


def normal_cdf(z):
    """Phi(z) = P(Z <= z) for Z ~ N(0, 1)."""
    z = torch.as_tensor(z, dtype=torch.float64)
    return 0.5 * (1 + torch.erf(z / math.sqrt(2)))


def sample_two_gaussians(
    n: int, *, mu: float = 1.0, sigma: float = 1.0, size=(), generator=None, device=None
):
    """Draw y ~ Bernoulli(1/2) and x | y ~ N((2y - 1) mu, sigma^2).

    Returns (x, y) with shape (*size, n); ``size`` gives independent repetitions (one sample of
    n points per repetition), which makes Monte-Carlo studies one vectorised call.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    shape = (*size, n)
    y = torch.randint(0, 2, shape, generator=generator).to(device)
    noise = torch.randn(shape, generator=generator).to(device)
    x = (2 * y - 1) * mu + sigma * noise
    return x, y


def threshold_risk(t, *, mu: float = 1.0, sigma: float = 1.0) -> torch.Tensor:
    """True 0/1 risk of F(x) = [x > t] on ``sample_two_gaussians``:

    R(t) = 1/2 P(x > t | y = 0) + 1/2 P(x <= t | y = 1)
         = 1/2 (1 - Phi((t + mu) / sigma)) + 1/2 Phi((t - mu) / sigma).
    It is smallest at the Bayes threshold t = 0.
    """
    t = torch.as_tensor(t, dtype=torch.float64)
    return 0.5 * (1 - normal_cdf((t + mu) / sigma)) + 0.5 * normal_cdf((t - mu) / sigma)


def erm_threshold(x: torch.Tensor, y: torch.Tensor):
    """Empirical risk minimisation over thresholds: argmin_t (1/N) sum_i [[x_i > t] != y_i].

    Works on the last dimension, so (R, N) inputs fit R samples at once. Sorting x, the errors
    of a cut after position k are (#ones among the first k) + (#zeros among the rest). A cut
    may only fall between *different* values (a threshold cannot split tied x). Returns
    (t, training_error) with the threshold placed midway between neighbouring points; the
    reported error is the one [x > t] achieves.
    """
    if x.shape != y.shape:
        raise ValueError(f"x has shape {tuple(x.shape)} but y {tuple(y.shape)}")
    if x.shape[-1] == 0:
        raise ValueError("x and y must hold at least one point")
    xs, order = x.sort(dim=-1)
    ys = y.gather(-1, order).to(torch.float64)
    zero = torch.zeros_like(ys[..., :1])
    ones_before = torch.cat([zero, ys.cumsum(-1)], dim=-1)  # k = 0..N
    zeros_before = torch.cat([zero, (1 - ys).cumsum(-1)], dim=-1)
    zeros_after = zeros_before[..., -1:] - zeros_before
    errors = ones_before + zeros_after
    errors = errors.masked_fill(~_cut_allowed(xs), float("inf"))
    k = errors.argmin(dim=-1, keepdim=True)
    pad_lo = xs[..., :1] - 1.0
    pad_hi = xs[..., -1:] + 1.0
    edges = torch.cat([pad_lo, xs, pad_hi], dim=-1)  # edges[k] and edges[k+1] bracket the cut
    lo, hi = edges.gather(-1, k), edges.gather(-1, k + 1)
    t = 0.5 * (lo + hi)
    t = torch.where(t < hi, t, lo)  # neighbours one float apart: the midpoint rounds up
    n = x.shape[-1]
    return t.squeeze(-1), errors.gather(-1, k).squeeze(-1) / n


def _cut_allowed(xs):
    """(..., N + 1) booleans: a cut after k sorted points is possible when k = 0, k = N or
    xs[k - 1] < xs[k]."""
    ends = torch.ones_like(xs[..., :1], dtype=torch.bool)
    return torch.cat([ends, xs[..., 1:] > xs[..., :-1], ends], dim=-1)


# --- a regression problem with a known distribution ----------------------------------------


def sine_target(x: torch.Tensor) -> torch.Tensor:
    """The regression function f(x) = sin(pi x) used by ``sample_sine``."""
    return torch.sin(math.pi * x)


def sample_sine(
    n: int, *, noise: float = 0.3, size=(), generator=None, device=None, dtype=torch.float64
):
    """x ~ U[-1, 1], y = sin(pi x) + noise * eps with eps ~ N(0, 1); shapes (*size, n)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    shape = (*size, n)
    x = (2 * torch.rand(shape, generator=generator, dtype=dtype) - 1).to(device)
    eps = torch.randn(shape, generator=generator, dtype=dtype).to(device)
    return x, sine_target(x) + noise * eps


def bias_variance(preds: torch.Tensor, truth: torch.Tensor):
    """Decompose the error of models trained on R independent datasets.

    ``preds`` (R, M) holds each model's prediction at M fixed test inputs and ``truth`` (M,) the
    regression function there. With fbar = mean over datasets,
        bias^2   = mean_x (fbar(x) - f(x))^2,
        variance = mean_x mean_D (f_D(x) - fbar(x))^2,
    and bias^2 + variance = mean_x mean_D (f_D(x) - f(x))^2 exactly; adding the noise variance
    gives the expected squared error on a fresh noisy target.
    """
    if preds.ndim != 2 or truth.shape != preds.shape[1:]:
        raise ValueError(
            f"need preds (R, M) and truth (M,), got {tuple(preds.shape)} and {tuple(truth.shape)}"
        )
    mean = preds.mean(0)
    bias2 = ((mean - truth) ** 2).mean().item()
    variance = ((preds - mean) ** 2).mean().item()
    return bias2, variance
