"""Linear, logistic and softmax regression written out by hand.

Conventions: ``X`` is an (N, d) design matrix (add a column of ones with ``add_bias`` to get an
intercept), ``w`` a (d,) weight vector, ``W`` a (d, C) weight matrix for C classes. Losses are
*means* over the N examples, so gradients do not grow with the dataset size:

    linear:   C(w) = 1/(2N) ||X w - y||^2,              grad = X^T (X w - y) / N
    logistic: L(w) = -(1/N) sum_i [y_i log p_i + (1 - y_i) log(1 - p_i)],  p = sigmoid(X w),
              grad = X^T (p - y) / N
    softmax:  L(W) = -(1/N) sum_i log softmax(x_i W)_{y_i},  grad = X^T (P - Y) / N

Everything works on whatever device and dtype the inputs live on.
"""

import torch

from ..validation import check_ids, check_tensor


def _check_matrix(X, name="X"):
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, d) matrix, got shape {tuple(X.shape)}")


def _check_rows(X, y, name="y"):
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(y).__name__}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but {name} has {y.shape[0]}; they must match")


def add_bias(X: torch.Tensor) -> torch.Tensor:
    """Prepend a column of ones, x -> (1, x), so that w_0 plays the role of the intercept."""
    _check_matrix(X)
    return torch.cat([torch.ones_like(X[:, :1]), X], dim=1)


def polynomial_features(x: torch.Tensor, degree: int) -> torch.Tensor:
    """Vandermonde matrix [1, x, x^2, ..., x^degree] of shape (N, degree + 1) for 1-D ``x``.

    Keep ``x`` in [-1, 1] and use float64 for degrees above ~8: the columns become nearly
    parallel otherwise and least squares loses digits.
    """
    if not isinstance(degree, int) or degree < 0:
        raise ValueError(f"degree must be a non-negative int, got {degree!r}")
    if not isinstance(x, torch.Tensor) or x.ndim != 1:
        raise ValueError("x must be a 1-D tensor of inputs")
    powers = torch.arange(degree + 1, device=x.device, dtype=x.dtype)
    return x[:, None] ** powers


def least_squares(X: torch.Tensor, y: torch.Tensor, *, ridge: float = 0.0) -> torch.Tensor:
    """Closed-form minimiser of ||X w - y||^2 + ridge * N * ||w||^2.

    Solves the normal equations (X^T X + ridge N I) w = X^T y. With ``ridge=0`` it calls a
    QR/SVD-based solver instead of forming X^T X, which squares the condition number.
    ``X`` may carry leading batch dimensions (..., N, d) to solve many problems at once.
    """
    if X.ndim < 2:
        raise ValueError(f"X must be (N, d) or (..., N, d), got shape {tuple(X.shape)}")
    if ridge < 0:
        raise ValueError(f"ridge must be >= 0, got {ridge}")
    squeeze = y.ndim == X.ndim - 1
    Y = y.unsqueeze(-1) if squeeze else y
    if Y.shape[-2] != X.shape[-2]:
        raise ValueError(f"X has {X.shape[-2]} rows but y has {Y.shape[-2]}; they must match")
    if ridge == 0:
        if X.device.type == "cpu":
            w = torch.linalg.lstsq(X, Y, driver="gelsd").solution
        else:  # CUDA only offers the QR driver, which assumes full column rank
            w = torch.linalg.lstsq(X, Y).solution
    else:
        n, d = X.shape[-2], X.shape[-1]
        A = X.mT @ X + ridge * n * torch.eye(d, dtype=X.dtype, device=X.device)
        w = torch.linalg.solve(A, X.mT @ Y)
    return w.squeeze(-1) if squeeze else w


def mse_loss(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """C(w) = 1/(2N) sum_i (x_i . w - y_i)^2 (the 1/2 makes the gradient clean)."""
    _check_matrix(X)
    _check_rows(X, y)
    return 0.5 * ((X @ w - y) ** 2).mean()


def mse_gradient(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """grad C(w) = X^T (X w - y) / N."""
    _check_matrix(X)
    _check_rows(X, y)
    return X.T @ (X @ w - y) / X.shape[0]


def max_stable_lr(X: torch.Tensor) -> float:
    """2 / lambda_max(H) with H = X^T X / N, the Hessian of ``mse_loss``.

    Gradient descent on a quadratic converges for 0 < lr < 2 / lambda_max and diverges above.
    """
    _check_matrix(X)
    H = X.T @ X / X.shape[0]
    return 2.0 / torch.linalg.eigvalsh(H).max().item()


def gradient_descent(grad, w0: torch.Tensor, *, lr: float, steps: int, loss=None):
    """Batch gradient descent w(t+1) = w(t) - lr * grad(w(t)).

    Returns the final weights and a dict with ``loss`` (one value per step, if ``loss`` is
    given) and ``path`` (the weights after every step, shape (steps + 1, *w0.shape)).
    """
    if lr <= 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be a non-negative int, got {steps!r}")
    w = w0.clone()
    path, losses = [w.clone()], []
    for _ in range(steps):
        w = w - lr * grad(w)
        path.append(w.clone())
        if loss is not None:
            losses.append(float(loss(w)))
    return w, {"loss": losses, "path": torch.stack(path)}


def linear_regression_gd(X, y, *, lr: float, steps: int, w0=None):
    """Least squares by batch gradient descent on ``mse_loss``; returns (w, history)."""
    _check_matrix(X)
    _check_rows(X, y)
    w0 = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device) if w0 is None else w0
    return gradient_descent(
        lambda w: mse_gradient(X, y, w), w0, lr=lr, steps=steps, loss=lambda w: mse_loss(X, y, w)
    )


def gaussian_nll(X, y, w, sigma) -> torch.Tensor:
    """Mean negative log-likelihood of y = X w + eps, eps ~ N(0, sigma^2):

    -(1/N) log L = log(sqrt(2 pi) sigma) + (1/(2 sigma^2 N)) sum_i (y_i - x_i . w)^2,
    i.e. an affine function of the mean squared error for every fixed sigma.
    """
    sigma = torch.as_tensor(sigma, dtype=X.dtype, device=X.device)
    resid2 = ((y - X @ w) ** 2).mean()
    return torch.log(sigma * (2 * torch.pi) ** 0.5) + resid2 / (2 * sigma**2)


def sigmoid(z: torch.Tensor) -> torch.Tensor:
    """sigma(z) = 1 / (1 + exp(-z)), evaluated without overflow for large |z|."""
    # exp(-|z|) never overflows; the two branches are the same function rearranged.
    e = torch.exp(-z.abs())
    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))


def logistic_loss(X, y, w) -> torch.Tensor:
    """Binary cross-entropy of p = sigmoid(X w) with labels y in {0, 1}, from the logits s:

    L = (1/N) sum_i [log(1 + exp(s_i)) - y_i s_i]   (the same value, without log(0)).
    """
    _check_matrix(X)
    _check_rows(X, y)
    s = X @ w
    return (torch.nn.functional.softplus(s) - y * s).mean()


def logistic_gradient(X, y, w) -> torch.Tensor:
    """grad L(w) = X^T (sigmoid(X w) - y) / N."""
    _check_matrix(X)
    _check_rows(X, y)
    return X.T @ (sigmoid(X @ w) - y) / X.shape[0]


def fit_logistic(X, y, *, lr: float = 1.0, steps: int = 2000, l2: float = 0.0, w0=None):
    """Logistic regression by batch gradient descent on logistic_loss + (l2/2) ||w||^2.

    ``y`` holds 0/1 labels (any dtype). Returns (w, history) as ``gradient_descent`` does.
    """
    _check_matrix(X)
    _check_rows(X, y)
    y = y.to(X.dtype)
    if not torch.all((y == 0) | (y == 1)):
        raise ValueError("y must contain only 0/1 labels")
    w0 = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device) if w0 is None else w0
    return gradient_descent(
        lambda w: logistic_gradient(X, y, w) + l2 * w,
        w0,
        lr=lr,
        steps=steps,
        loss=lambda w: logistic_loss(X, y, w),
    )


def softmax(S: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """softmax(s)_j = exp(s_j - m) / sum_k exp(s_k - m), m = max_k s_k (no overflow)."""
    e = torch.exp(S - S.amax(dim=dim, keepdim=True))
    return e / e.sum(dim=dim, keepdim=True)


def softmax_jacobian(s: torch.Tensor) -> torch.Tensor:
    """J[j, i] = d softmax(s)_j / d s_i = p_j (delta_ji - p_i), i.e. J = diag(p) - p p^T."""
    if s.ndim != 1:
        raise ValueError(f"s must be one vector of logits (C,), got shape {tuple(s.shape)}")
    p = softmax(s)
    return torch.diag(p) - torch.outer(p, p)


def log_softmax(S: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """log softmax(s)_j = s_j - logsumexp(s), with the max subtracted inside logsumexp."""
    m = S.amax(dim=dim, keepdim=True)
    return S - m - torch.log(torch.exp(S - m).sum(dim=dim, keepdim=True))


def cross_entropy(S: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy -(1/N) sum_i log softmax(s_i)_{y_i} from logits S (N, C), labels y."""
    if S.ndim != 2:
        raise ValueError(f"logits S must be (N, C), got shape {tuple(S.shape)}")
    _check_rows(S, y)
    if y.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    check_tensor("y", y, ndim=1)
    check_ids("y", y, S.shape[1])
    return -log_softmax(S).gather(1, y.long()[:, None]).mean()


def one_hot(y: torch.Tensor, num_classes: int, dtype=torch.float32) -> torch.Tensor:
    """Y[i, j] = 1 if y_i = j else 0."""
    if y.numel() and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got values outside that range")
    return (y[:, None] == torch.arange(num_classes, device=y.device)).to(dtype)


def softmax_gradient(X, y, W) -> torch.Tensor:
    """grad_W L = X^T (softmax(X W) - Y) / N, Y the one-hot labels; shape (d, C)."""
    _check_matrix(X)
    _check_rows(X, y)
    P = softmax(X @ W)
    return X.T @ (P - one_hot(y, W.shape[1], P.dtype)) / X.shape[0]


def fit_softmax(X, y, num_classes: int, *, lr: float = 1.0, steps: int = 500, l2: float = 0.0):
    """Softmax (multinomial logistic) regression by batch GD on cross_entropy + (l2/2)||W||^2.

    Returns (W, history); W has shape (d, num_classes) and predictions are (X W).argmax(1).
    """
    _check_matrix(X)
    _check_rows(X, y)
    W0 = torch.zeros(X.shape[1], num_classes, dtype=X.dtype, device=X.device)
    return gradient_descent(
        lambda W: softmax_gradient(X, y, W) + l2 * W,
        W0,
        lr=lr,
        steps=steps,
        loss=lambda W: cross_entropy(X @ W, y),
    )
