"""Activation functions and their derivatives, written out in NumPy.

Each entry of ``ACTIVATIONS`` is a pair ``(f, df)`` of element-wise functions on arrays:
``f(x)`` and its derivative ``f'(x)``. Softmax is not element-wise; it has its own forward
``softmax`` and vector-Jacobian product ``softmax_backward``.
"""

import numpy as np
from scipy.special import erf


def sigmoid(x):
    """sigma(x) = 1 / (1 + e^-x), computed without overflow for large |x|."""
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x):
    """sigma'(x) = sigma(x) (1 - sigma(x)); at most 1/4, at x = 0."""
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x):
    """tanh(x) = (e^x - e^-x) / (e^x + e^-x) = 2 sigma(2x) - 1."""
    return np.tanh(np.asarray(x, dtype=float))


def tanh_grad(x):
    """tanh'(x) = 1 - tanh(x)^2; at most 1, at x = 0."""
    return 1.0 - np.tanh(np.asarray(x, dtype=float)) ** 2


def relu(x):
    """ReLU(x) = max(0, x)."""
    return np.maximum(np.asarray(x, dtype=float), 0.0)


def relu_grad(x):
    """ReLU'(x) = 1 for x > 0, else 0 (the value 0 at x = 0 is a convention, as in PyTorch)."""
    return (np.asarray(x) > 0).astype(float)


def leaky_relu(x, slope=0.01):
    """LeakyReLU(x) = x for x >= 0, slope * x otherwise."""
    x = np.asarray(x, dtype=float)
    return np.where(x >= 0, x, slope * x)


def leaky_relu_grad(x, slope=0.01):
    """LeakyReLU'(x) = 1 for x > 0, slope otherwise."""
    return np.where(np.asarray(x) > 0, 1.0, slope)


def elu(x, alpha=1.0):
    """ELU(x) = x for x > 0, alpha (e^x - 1) otherwise; range (-alpha, inf)."""
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def elu_grad(x, alpha=1.0):
    """ELU'(x) = 1 for x > 0, alpha e^x otherwise."""
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def gelu(x):
    """GELU(x) = x Phi(x), Phi the standard normal CDF: Phi(x) = (1 + erf(x / sqrt 2)) / 2."""
    x = np.asarray(x, dtype=float)
    return x * 0.5 * (1.0 + erf(x / np.sqrt(2.0)))


def gelu_grad(x):
    """GELU'(x) = Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi) the normal density."""
    x = np.asarray(x, dtype=float)
    return 0.5 * (1.0 + erf(x / np.sqrt(2.0))) + x * np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi)


def identity(x):
    """f(x) = x (a linear output layer)."""
    return np.asarray(x, dtype=float)


def identity_grad(x):
    """f'(x) = 1."""
    return np.ones_like(np.asarray(x, dtype=float))


def softmax(z, axis=-1):
    """softmax(z)_k = e^{z_k} / sum_j e^{z_j}; the max is subtracted first to avoid overflow."""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_backward(z, upstream, axis=-1):
    """Vector-Jacobian product of softmax: dL/dz = s * (g - sum_k g_k s_k), s = softmax(z).

    The Jacobian ds_i/dz_j = s_i (delta_ij - s_j) is never formed: that would cost K^2.
    """
    s = softmax(z, axis=axis)
    g = np.asarray(upstream, dtype=float)
    if g.shape != s.shape:
        raise ValueError(f"upstream must have the shape of z, {s.shape}, got {g.shape}")
    return s * (g - (g * s).sum(axis=axis, keepdims=True))


ACTIVATIONS = {
    "identity": (identity, identity_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
    "gelu": (gelu, gelu_grad),
}


def get_activation(name: str):
    """Return the pair (f, f') for an activation name from ``ACTIVATIONS``."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]
