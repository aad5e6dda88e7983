"""Tolerances for comparing two floating-point computations, derived from their dtype.

Two routes to the same number (ours and torch's, batched and not) differ only by rounding.
Each operation that feeds a result (a term of a sum, a layer, an optimizer step) may add a
relative error of about eps = torch.finfo(dtype).eps, and in the worst case these add up, so

    rtol = atol = factor * ops * eps.

``ops`` is the number of accumulated operations (e.g. the length of the longest sum times the
number of steps); ``factor`` covers the few roundings inside each one. A fixed ``atol=1e-5``
passes on one CPU and fails on another whose kernels sum in a different order.
"""

import torch


def tolerance(dtype: torch.dtype, ops: int = 1, factor: float = 4.0) -> dict:
    """{"rtol": tol, "atol": tol} with tol = factor * ops * eps(dtype), for assert_close."""
    if ops < 1:
        raise ValueError(f"ops must be >= 1, got {ops}")
    tol = factor * ops * torch.finfo(dtype).eps
    return {"rtol": tol, "atol": tol}


def assert_close(actual, expected, *, ops: int = 1, factor: float = 4.0):
    """torch.testing.assert_close with the tolerance of ``actual``'s dtype and ``ops``."""
    torch.testing.assert_close(actual, expected, **tolerance(actual.dtype, ops, factor))


def allclose(actual, expected, *, ops: int = 1, factor: float = 4.0) -> bool:
    """torch.allclose with the same tolerance, for asserts that combine several checks."""
    return torch.allclose(actual, expected, **tolerance(actual.dtype, ops, factor))
