"""Visible checks for chapter 13 (attention and transformers)."""

import math

import torch

from ..checks import case


def _inputs(seed=0, B=2, T=5, d=4):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(B, T, d, generator=g) for _ in range(3)]


# ----------------------------------------------------------------------------- attention.sdpa
@case(
    "attention.sdpa",
    hint="Return a pair (output, weights) with shapes (..., T_q, d_v) and (..., T_q, T_k).",
)
def sdpa_shapes(fn):
    q, k, v = _inputs()
    out, w = fn(q, k, v[..., :3])
    assert tuple(out.shape) == (2, 5, 3), f"output has shape {tuple(out.shape)}"
    assert tuple(w.shape) == (2, 5, 5), f"weights have shape {tuple(w.shape)}"


@case("attention.sdpa", hint="Each row of weights is a softmax over the keys (last axis).")
def sdpa_rows_sum_to_one(fn):
    q, k, v = _inputs(1)
    _, w = fn(q, k, v)
    assert torch.allclose(w.sum(-1), torch.ones(2, 5), atol=1e-5), (
        "rows of the weights do not sum to 1"
    )


@case("attention.sdpa", hint="Divide the scores by sqrt(d_k) before the softmax.")
def sdpa_one_query(fn):
    q = torch.tensor([[[2.0, 0.0, 0.0, 0.0]]])
    k = torch.tensor([[[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]])
    v = torch.tensor([[[1.0], [0.0]]])
    out, _ = fn(q, k, v)
    expected = 1 / (1 + math.exp(-1.0))
    assert abs(out.item() - expected) < 1e-5, "wrong value for a single query and two keys"


@case(
    "attention.sdpa",
    hint="Masked keys (mask False) must get exactly zero weight: fill their scores with -inf.",
)
def sdpa_mask(fn):
    q, k, v = _inputs(2)
    mask = torch.ones(5, 5, dtype=torch.bool).tril()
    _, w = fn(q, k, v, mask)
    assert torch.all(w[:, mask.logical_not()] == 0), "masked positions received weight"
    assert torch.allclose(w.sum(-1), torch.ones(2, 5), atol=1e-5), (
        "rows do not sum to 1 with a mask"
    )


# ------------------------------------------------------------------------- attention.split_heads
@case("attention.split_heads", hint="(B, T, h*d) must become (B, h, T, d).")
def split_shape(fn):
    out = fn(torch.zeros(2, 3, 12), 4)
    assert tuple(out.shape) == (2, 4, 3, 3), f"got shape {tuple(out.shape)}"


@case("attention.split_heads", hint="Head r holds the features r*d ... (r+1)*d - 1 of every token.")
def split_content(fn):
    x = torch.arange(2 * 3 * 6, dtype=torch.float).view(2, 3, 6)
    out = fn(x, 2)
    assert torch.equal(out[:, 1], x[..., 3:]), "head 1 does not hold the second chunk of features"


# ------------------------------------------------------------------------- attention.merge_heads
@case("attention.merge_heads", hint="(B, h, T, d) must become (B, T, h*d).")
def merge_shape(fn):
    out = fn(torch.zeros(2, 4, 3, 5))
    assert tuple(out.shape) == (2, 3, 20), f"got shape {tuple(out.shape)}"


@case("attention.merge_heads", hint="Put the head axis next to the feature axis before reshaping.")
def merge_content(fn):
    x = torch.arange(1 * 2 * 3 * 2, dtype=torch.float).view(1, 2, 3, 2)
    out = fn(x)
    assert torch.equal(out[0, 1, :2], x[0, 0, 1]) and torch.equal(out[0, 1, 2:], x[0, 1, 1]), (
        "token 1's features are not head 0's then head 1's"
    )


# ----------------------------------------------------------------------------- attention.positional
@case("attention.positional", hint="Return a (T, d) tensor.")
def pe_shape(fn):
    out = fn(7, 6)
    assert tuple(out.shape) == (7, 6), f"got shape {tuple(out.shape)}"


@case(
    "attention.positional",
    hint="Position 0: sin(0) = 0 in even columns, cos(0) = 1 in odd columns.",
)
def pe_position_zero(fn):
    out = fn(3, 8)
    assert torch.allclose(out[0], torch.tensor([0.0, 1.0] * 4)), "row 0 is wrong"


@case("attention.positional", hint="Column 0 is sin(pos): its frequency is 10000^0 = 1.")
def pe_first_column(fn):
    out = fn(5, 4)
    assert torch.allclose(out[:, 0], torch.sin(torch.arange(5.0)), atol=1e-6), "column 0 is wrong"
