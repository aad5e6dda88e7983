"""Multilayer perceptrons: a from-scratch NumPy version with hand-written backprop, and the
equivalent ``torch.nn`` model.

Layout. A batch is a matrix X of shape (B, d_0), one example per row. Layer l has weights
W_l of shape (d_l, d_{l-1}) and bias b_l of shape (d_l,), the layout of ``torch.nn.Linear``:

    s_l = z_{l-1} W_l^T + b_l,     z_l = f(s_l),     z_0 = X,

with f the hidden activation and no activation after the last layer (its outputs are logits
or regression values; the loss takes care of them). Backward, with g_l = dL/ds_l:

    g_L = dL/dz_L,   dL/dW_l = g_l^T z_{l-1},   dL/db_l = sum over the batch of g_l,
    dL/dz_{l-1} = g_l W_l,   g_{l-1} = dL/dz_{l-1} * f'(s_{l-1}).
"""

import numpy as np
import torch
from torch import nn

from ..activations import get_activation, sigmoid, softmax
from ..device import seeded


# ----------------------------------------------------------------------------- parameters
def init_mlp(sizes, *, seed: int = 0, gain: float = 1.0) -> dict:
    """Random parameters {"W1", "b1", ..., "WL", "bL"} for layer widths ``sizes``.

    W_l ~ N(0, gain^2 / d_{l-1}) keeps the scale of the signal roughly constant from layer to
    layer (use gain 1 for tanh, sqrt(2) for ReLU); biases start at 0.
    """
    sizes = list(sizes)
    if len(sizes) < 2 or any(not isinstance(d, int) or d < 1 for d in sizes):
        raise ValueError(f"sizes must list at least two positive ints (in, ..., out), got {sizes}")
    rng = np.random.default_rng(seeded(seed))
    params = {}
    for l, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        params[f"W{l}"] = rng.normal(0.0, gain / np.sqrt(d_in), size=(d_out, d_in))
        params[f"b{l}"] = np.zeros(d_out)
    return params


def num_layers(params: dict) -> int:
    """The number of weight layers L in a parameter dict."""
    if not isinstance(params, dict) or "W1" not in params:
        raise TypeError("params must be a dict with keys 'W1', 'b1', ... (see init_mlp)")
    return sum(1 for k in params if k.startswith("W"))


# ----------------------------------------------------------------------------- forward / backward
def linear_forward(X, W, b):
    """Y = X W^T + b for a batch X (B, d_in), W (d_out, d_in), b (d_out,)."""
    if X.ndim != 2 or X.shape[1] != W.shape[1]:
        raise ValueError(f"X must have shape (B, {W.shape[1]}) to match W {W.shape}, got {X.shape}")
    return X @ W.T + b


def linear_backward(dY, X, W):
    """Given dL/dY for Y = X W^T + b, return (dL/dX, dL/dW, dL/db).

    dL/dX = dY W,  dL/dW = dY^T X,  dL/db = sum_i dY_i (each has its variable's shape).
    """
    return dY @ W, dY.T @ X, dY.sum(axis=0)


def mlp_forward(params: dict, X, activation: str = "tanh"):
    """Run the MLP on a batch; return (output, cache), the cache holding what backward needs."""
    f, _ = get_activation(activation)
    X = np.asarray(X, dtype=float)
    L = num_layers(params)
    z, cache = X, []
    for l in range(1, L + 1):
        s = linear_forward(z, params[f"W{l}"], params[f"b{l}"])
        cache.append((z, s))
        z = f(s) if l < L else s
    return z, cache


def mlp_backward(params: dict, cache, d_out, activation: str = "tanh") -> dict:
    """Back-propagate dL/d(output) through the MLP; return {"W1": dL/dW1, "b1": ..., ...}."""
    _, df = get_activation(activation)
    L = num_layers(params)
    grads = {}
    g = np.asarray(d_out, dtype=float)  # dL/ds_L: no activation after the last layer
    for l in range(L, 0, -1):
        z_prev, _ = cache[l - 1]
        dz_prev, grads[f"W{l}"], grads[f"b{l}"] = linear_backward(g, z_prev, params[f"W{l}"])
        if l > 1:
            _, s_prev = cache[l - 2]
            g = dz_prev * df(s_prev)  # chain rule through the element-wise activation
    return grads


# ----------------------------------------------------------------------------- losses
def mse_loss(pred, target):
    """L = (1/N) sum (pred - target)^2 over all N entries; returns (L, dL/dpred)."""
    pred, target = np.asarray(pred, dtype=float), np.asarray(target, dtype=float)
    if pred.shape != target.shape:
        raise ValueError(f"pred {pred.shape} and target {target.shape} must have the same shape")
    diff = pred - target
    return float(np.mean(diff**2)), 2.0 * diff / diff.size


def softmax_cross_entropy(logits, labels):
    """L = -(1/B) sum_i log softmax(z_i)_{y_i}; returns (L, dL/dz) with dL/dz = (p - onehot)/B.

    Computed from logits with the log-sum-exp trick, like ``F.cross_entropy``.
    """
    z = np.asarray(logits, dtype=float)
    labels = np.asarray(labels)
    if z.ndim != 2 or labels.shape != (z.shape[0],):
        raise ValueError(f"need logits (B, K) and labels (B,), got {z.shape} and {labels.shape}")
    if labels.min() < 0 or labels.max() >= z.shape[1]:
        raise ValueError(f"labels must lie in 0..{z.shape[1] - 1}")
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    B = z.shape[0]
    loss = -log_p[np.arange(B), labels].mean()
    grad = softmax(z)
    grad[np.arange(B), labels] -= 1.0
    return float(loss), grad / B


def bce_with_logits(logits, targets):
    """L = -(1/N) sum [y log sigma(z) + (1 - y) log(1 - sigma(z))]; returns (L, (sigma(z) - y)/N).

    Uses max(z, 0) - z y + log(1 + e^-|z|), which never takes the log of 0.
    """
    z, y = np.asarray(logits, dtype=float), np.asarray(targets, dtype=float)
    if z.shape != y.shape:
        raise ValueError(f"logits {z.shape} and targets {y.shape} must have the same shape")
    loss = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return float(loss.mean()), (sigmoid(z) - y) / z.size


LOSSES = {"mse": mse_loss, "cross_entropy": softmax_cross_entropy, "bce": bce_with_logits}


def loss_and_grads(params: dict, X, y, *, loss: str = "cross_entropy", activation: str = "tanh"):
    """Forward, loss and backward in one call; returns (loss, grads)."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)}")
    out, cache = mlp_forward(params, X, activation)
    value, d_out = LOSSES[loss](out, y)
    return value, mlp_backward(params, cache, d_out, activation)


def sgd_step(params: dict, grads: dict, lr: float) -> dict:
    """theta <- theta - lr * dL/dtheta for every parameter; returns a new dict."""
    return {k: v - lr * grads[k] for k, v in params.items()}


# ----------------------------------------------------------------------------- gradient checking
def numerical_gradient(f, params: dict, eps: float = 1e-6) -> dict:
    """Central differences (f(theta + eps e_i) - f(theta - eps e_i)) / (2 eps) for every entry.

    ``f(params)`` must return a float. Costs two evaluations of f per parameter: fine for a
    check, hopeless for training (that is why backprop exists).
    """
    grads = {}
    for name, value in params.items():
        g = np.zeros_like(value, dtype=float)
        for idx in np.ndindex(value.shape):
            old = value[idx]
            value[idx] = old + eps
            up = f(params)
            value[idx] = old - eps
            down = f(params)
            value[idx] = old
            g[idx] = (up - down) / (2 * eps)
        grads[name] = g
    return grads


def relative_error(a, b) -> float:
    """||a - b|| / (||a|| + ||b||) over all entries (dicts of arrays are flattened together)."""
    if isinstance(a, dict):
        if a.keys() != b.keys():
            raise ValueError(f"a and b must have the same keys, got {sorted(a)} and {sorted(b)}")
        a = np.concatenate([np.ravel(np.asarray(a[k], dtype=float)) for k in sorted(a)])
        b = np.concatenate([np.ravel(np.asarray(b[k], dtype=float)) for k in sorted(b)])
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


# ----------------------------------------------------------------------------- torch side
TORCH_ACTIVATIONS = {
    "identity": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
}


def make_mlp(sizes, activation: str = "relu") -> nn.Sequential:
    """nn.Sequential(Linear, act, Linear, act, ..., Linear) with widths ``sizes``."""
    sizes = list(sizes)
    if len(sizes) < 2 or any(not isinstance(d, int) or d < 1 for d in sizes):
        raise ValueError(f"sizes must list at least two positive ints (in, ..., out), got {sizes}")
    if activation not in TORCH_ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}; choose one of {sorted(TORCH_ACTIVATIONS)}"
        )
    layers = []
    for d_in, d_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(d_in, d_out), TORCH_ACTIVATIONS[activation]()]
    return nn.Sequential(*layers[:-1])  # no activation after the output layer


def to_torch(params: dict, activation: str = "tanh", device=None) -> nn.Sequential:
    """The ``make_mlp`` model holding a copy of the NumPy ``params`` (float64)."""
    L = num_layers(params)
    sizes = [params["W1"].shape[1]] + [params[f"W{l}"].shape[0] for l in range(1, L + 1)]
    model = make_mlp(sizes, activation).double()
    linears = [m for m in model if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for l, layer in enumerate(linears, start=1):
            layer.weight.copy_(torch.as_tensor(params[f"W{l}"]))
            layer.bias.copy_(torch.as_tensor(params[f"b{l}"]))
    return model.to(device) if device is not None else model


def torch_grads(model: nn.Sequential) -> dict:
    """The .grad of each Linear layer of ``model`` as NumPy arrays named like ``init_mlp``'s."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    grads = {}
    for l, layer in enumerate(linears, start=1):
        grads[f"W{l}"] = layer.weight.grad.detach().cpu().numpy()
        grads[f"b{l}"] = layer.bias.grad.detach().cpu().numpy()
    return grads


def count_parameters(model) -> int:
    """Number of trainable numbers: sum of p.numel() over distinct parameters.

    Accepts an ``nn.Module`` (a layer used twice is counted once, as PyTorch stores it once) or
    a NumPy parameter dict from ``init_mlp``.
    """
    if isinstance(model, nn.Module):
        return sum(p.numel() for p in model.parameters() if p.requires_grad)
    if isinstance(model, dict):
        return int(sum(np.size(v) for v in model.values()))
    raise TypeError(f"model must be an nn.Module or a parameter dict, got {type(model).__name__}")
