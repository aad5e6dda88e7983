"""Argument checks for the public functions of course_lib.

Each check raises an error that names the argument, says what was expected and what it got,
e.g. ``ValueError: x must have shape (B, T, 64), got (5, 32)``. They look only at shapes,
dtypes and Python numbers, so they cost nothing next to the computation; ``check_ids`` is the
one that reads tensor values (its min and max), once per call.

Shapes are written with ``None`` for a size that may be anything: ``shape=(None, None, 64)``.
"""

import math
import numbers
import operator

import torch

_KINDS = {
    "floating": (torch.Tensor.is_floating_point, "a floating-point dtype"),
    "integer": (
        lambda t: not t.is_floating_point() and not t.is_complex() and t.dtype != torch.bool,
        "an integer dtype",
    ),
}


def _shape_text(shape) -> str:
    inner = ", ".join("?" if s is None else str(s) for s in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def check_tensor(name: str, x, *, ndim=None, shape=None, dtype=None) -> torch.Tensor:
    """Check that ``x`` is a tensor with the given rank, shape and dtype; return it.

    ``ndim`` is an int or a tuple of allowed ints; ``shape`` a tuple with ``None`` wildcards;
    ``dtype`` a torch dtype, ``"floating"`` or ``"integer"``.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in allowed:
            want = " or ".join(f"{n}-D" for n in allowed)
            raise ValueError(f"{name} must be {want}, got shape {tuple(x.shape)} ({x.ndim}-D)")
    if shape is not None:
        if x.ndim != len(shape) or any(
            s is not None and s != n for s, n in zip(shape, x.shape, strict=True)
        ):
            raise ValueError(f"{name} must have shape {_shape_text(shape)}, got {tuple(x.shape)}")
    if dtype is not None:
        check_dtype(name, x, dtype)
    return x


def check_dtype(name: str, x: torch.Tensor, dtype) -> None:
    """``dtype`` is a torch dtype, ``"floating"`` or ``"integer"``."""
    if dtype in _KINDS:
        test, text = _KINDS[dtype]
        if not test(x):
            raise TypeError(f"{name} must have {text}, got {x.dtype}")
    elif x.dtype != dtype:
        raise TypeError(f"{name} must have dtype {dtype}, got {x.dtype}")


def check_same_dtype(**tensors) -> None:
    """All the named tensors share one dtype (torch would fail deep inside otherwise)."""
    dtypes = {name: t.dtype for name, t in tensors.items() if t is not None}
    if len(set(dtypes.values())) > 1:
        got = ", ".join(f"{n}: {d}" for n, d in dtypes.items())
        raise TypeError(f"{', '.join(dtypes)} must share one dtype, got {got}")


def check_ids(name: str, ids, vocab_size: int) -> torch.Tensor:
    """Integer token ids, every one in [0, vocab_size). Reads the min and max once."""
    check_tensor(name, ids, dtype="integer")
    if ids.numel():
        lo, hi = int(ids.min()), int(ids.max())
        if lo < 0 or hi >= vocab_size:
            raise ValueError(f"{name} must lie in [0, {vocab_size}), got values in [{lo}, {hi}]")
    return ids


def check_probability(name: str, p, *, allow_zero: bool = True, allow_one: bool = True) -> float:
    """A number in [0, 1] (the ends can be excluded)."""
    _check_number(name, p)
    lo_ok = p >= 0 if allow_zero else p > 0
    hi_ok = p <= 1 if allow_one else p < 1
    if not (lo_ok and hi_ok):
        interval = f"{'[' if allow_zero else '('}0, 1{']' if allow_one else ')'}"
        raise ValueError(f"{name} must lie in {interval}, got {p}")
    return p


def check_positive(name: str, v, *, allow_zero: bool = False):
    """A number > 0 (or >= 0 with ``allow_zero``)."""
    _check_number(name, v)
    if not (v >= 0 if allow_zero else v > 0):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {v}")
    return v


def check_int(name: str, v, *, min_value=None) -> int:
    """An integer (a Python, numpy or one-element integer tensor int), at least ``min_value``;
    returned as a Python int."""
    try:
        if isinstance(v, bool):
            raise TypeError
        v = operator.index(v)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {type(v).__name__} {v!r}") from None
    if min_value is not None and v < min_value:
        raise ValueError(f"{name} must be >= {min_value}, got {v}")
    return v


def _check_number(name, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or math.isnan(v):
        raise TypeError(f"{name} must be a real number, got {v!r}")


__all__ = [
    "check_tensor",
    "check_dtype",
    "check_same_dtype",
    "check_ids",
    "check_probability",
    "check_positive",
    "check_int",
]
