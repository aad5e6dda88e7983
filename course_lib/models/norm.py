"""Normalisation layers written out from their equations: batch norm, layer norm, RMSNorm.

Each matches its ``torch.nn`` counterpart (same defaults, same epsilon placement, same
running-statistics update) in both training and evaluation mode; ``tests/test_norm.py`` checks
this with copied parameters.
"""

import torch
from torch import nn

from ..validation import check_probability


class BatchNorm1d(nn.Module):
    """Batch normalisation over the batch (and length) axes, one statistic per feature.

    Training mode, for a mini-batch B of pre-activations of feature i:
        mu_B = mean_B(x),  var_B = mean_B((x - mu_B)^2)          (biased variance)
        y = gamma * (x - mu_B) / sqrt(var_B + eps) + beta
        running_mean <- (1 - momentum) * running_mean + momentum * mu_B
        running_var  <- (1 - momentum) * running_var  + momentum * var_B * n / (n - 1)
    ``momentum=None`` uses 1 / (number of batches seen) instead, so the running statistics are
    the plain (cumulative) average over all batches, as in torch.
    Evaluation mode uses the running statistics instead of mu_B and var_B, so a prediction
    no longer depends on the other examples in the batch.

    Input (N, C) or (N, C, L), as for ``torch.nn.BatchNorm1d``.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1):
        super().__init__()
        if num_features < 1:
            raise ValueError(f"num_features must be >= 1, got {num_features}")
        if momentum is not None:
            check_probability("momentum", momentum)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))  # gamma
        self.bias = nn.Parameter(torch.zeros(num_features))  # beta
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def _factor(self) -> float:
        """Weight of the new batch in the running statistics."""
        if self.momentum is None:
            return 1.0 / float(self.num_batches_tracked)
        return self.momentum

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(
                f"expected input (N, {self.num_features}) or (N, {self.num_features}, L), "
                f"got {tuple(x.shape)}"
            )
        axes = (0,) if x.ndim == 2 else (0, 2)
        shape = (1, -1) if x.ndim == 2 else (1, -1, 1)
        if self.training:
            n = x.numel() // self.num_features
            if n < 2:
                raise ValueError(
                    "batch norm in training mode needs more than one value per "
                    "feature (batch size >= 2)"
                )
            mean = x.mean(dim=axes)
            var = x.var(dim=axes, unbiased=False)
            with torch.no_grad():
                self.num_batches_tracked += 1
                self.running_mean.lerp_(mean, self._factor())
                self.running_var.lerp_(var * n / (n - 1), self._factor())
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + self.eps)
        return self.weight.reshape(shape) * x_hat + self.bias.reshape(shape)


def _last_dims(shape) -> tuple:
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if not shape or any(s < 1 for s in shape):
        raise ValueError(f"normalized_shape must be positive sizes, got {shape}")
    return shape


class LayerNorm(nn.Module):
    """Layer normalisation: statistics over the features of each example separately.

        mu = mean(x), var = mean((x - mu)^2) over the last len(normalized_shape) axes
        y = gamma * (x - mu) / sqrt(var + eps) + beta

    The same computation in training and evaluation mode, and independent of the batch.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5):
        super().__init__()
        self.normalized_shape, self.eps = _last_dims(normalized_shape), eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = len(self.normalized_shape)
        if tuple(x.shape[-k:]) != self.normalized_shape:
            raise ValueError(f"input must end with {self.normalized_shape}, got {tuple(x.shape)}")
        axes = tuple(range(-k, 0))
        mean = x.mean(dim=axes, keepdim=True)
        var = x.var(dim=axes, unbiased=False, keepdim=True)
        return self.weight * (x - mean) / torch.sqrt(var + self.eps) + self.bias


class RMSNorm(nn.Module):
    """Root-mean-square normalisation (Zhang and Sennrich): layer norm without centring.

        y = gamma * x / sqrt(mean(x^2) + eps)     over the last len(normalized_shape) axes

    As in ``torch.nn.RMSNorm``, ``eps=None`` means the machine epsilon of the input's dtype.
    """

    def __init__(self, normalized_shape, eps: float | None = None):
        super().__init__()
        self.normalized_shape, self.eps = _last_dims(normalized_shape), eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = len(self.normalized_shape)
        if tuple(x.shape[-k:]) != self.normalized_shape:
            raise ValueError(f"input must end with {self.normalized_shape}, got {tuple(x.shape)}")
        eps = torch.finfo(x.dtype).eps if self.eps is None else self.eps
        ms = x.pow(2).mean(dim=tuple(range(-k, 0)), keepdim=True)
        return self.weight * x / torch.sqrt(ms + eps)
