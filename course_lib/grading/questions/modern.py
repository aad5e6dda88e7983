"""Visible checks for chapter 14 (modern transformer techniques)."""

import torch

from ..checks import case


# ----------------------------------------------------------------------------- modern.rms_norm
@case("modern.rms_norm", hint="The output has the shape of x.")
def rms_shape(fn):
    out = fn(torch.randn(2, 3, 4), torch.ones(4))
    assert tuple(out.shape) == (2, 3, 4), f"got shape {tuple(out.shape)}"


@case(
    "modern.rms_norm",
    hint="Divide by sqrt(mean of squares + eps) over the LAST axis; do not subtract the mean.",
)
def rms_values(fn):
    x = torch.tensor([[3.0, 4.0]])
    out = fn(x, torch.ones(2), eps=0.0)
    expected = x / (12.5**0.5)
    assert torch.allclose(out, expected, atol=1e-6), "wrong values for x = [3, 4]"


@case("modern.rms_norm", hint="Multiply by the weight vector g at the end.")
def rms_weight(fn):
    x = torch.tensor([[1.0, 1.0, 1.0]])
    out = fn(x, torch.tensor([1.0, 2.0, 3.0]), eps=0.0)
    assert torch.allclose(out, torch.tensor([[1.0, 2.0, 3.0]]), atol=1e-6), (
        "the weight is not applied"
    )


# ----------------------------------------------------------------------------- modern.rope
@case("modern.rope", hint="The output has the shape of x (..., T, d).")
def rope_shape(fn):
    out = fn(torch.randn(2, 5, 8), torch.arange(5))
    assert tuple(out.shape) == (2, 5, 8), f"got shape {tuple(out.shape)}"


@case("modern.rope", hint="Position 0 is a rotation by angle 0: nothing changes.")
def rope_position_zero(fn):
    x = torch.randn(1, 8)
    assert torch.allclose(fn(x, torch.tensor([0])), x, atol=1e-6), "position 0 changed the vector"


@case("modern.rope", hint="A rotation keeps the length of every pair, so the norm is unchanged.")
def rope_norm(fn):
    x = torch.randn(6, 8)
    out = fn(x, torch.arange(6))
    assert torch.allclose(out.norm(dim=-1), x.norm(dim=-1), atol=1e-5), "the norm changed"


@case(
    "modern.rope",
    hint="Pair feature i with feature i + d/2 (rotate half); pair 0 turns by m * 1 radian.",
)
def rope_first_pair(fn):
    x = torch.zeros(1, 4)
    x[0, 0] = 1.0
    out = fn(x, torch.tensor([1]))
    c, s = torch.cos(torch.tensor(1.0)), torch.sin(torch.tensor(1.0))
    assert torch.allclose(out[0], torch.tensor([c, 0.0, s, 0.0]), atol=1e-6), (
        "wrong rotation of the first pair"
    )


# ----------------------------------------------------------------------------- modern.gqa
def _qkv(h_q, h_kv, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(2, h_q, 5, 4, generator=g),
        torch.randn(2, h_kv, 5, 4, generator=g),
        torch.randn(2, h_kv, 5, 4, generator=g),
    )


@case("modern.gqa", hint="The output has the shape of the queries (B, h_q, T, d).")
def gqa_shape(fn):
    out = fn(*_qkv(4, 2))
    assert tuple(out.shape) == (2, 4, 5, 4), f"got shape {tuple(out.shape)}"


@case("modern.gqa", hint="With h_kv = h_q it is ordinary causal attention.")
def gqa_equals_mha(fn):
    q, k, v = _qkv(2, 2, 1)
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(fn(q, k, v), ref, atol=1e-5), "wrong result when h_kv = h_q"


@case(
    "modern.gqa",
    hint="Query heads 0 and 1 share key/value head 0 when g = 2 (repeat_interleave, not repeat).",
)
def gqa_grouping(fn):
    q, k, v = _qkv(4, 2, 2)
    out = fn(q, k, v)
    ref = torch.nn.functional.scaled_dot_product_attention(
        q[:, 1:2], k[:, :1], v[:, :1], is_causal=True
    )
    assert torch.allclose(out[:, 1:2], ref, atol=1e-5), "query head 1 does not use key/value head 0"


@case("modern.gqa", hint="Apply the causal mask: position i attends to j <= i only.")
def gqa_causal(fn):
    q, k, v = _qkv(2, 1, 3)
    out = fn(q, k, v)
    assert torch.allclose(out[:, :, 0], v[:, :1, 0].expand(2, 2, 4), atol=1e-5), (
        "position 0 sees the future"
    )


# ----------------------------------------------------------------------------- modern.window_mask
@case("modern.window_mask", hint="Return a boolean (T, T) tensor.")
def window_type(fn):
    m = fn(5, 2)
    assert m.dtype == torch.bool and tuple(m.shape) == (5, 5), f"got {m.dtype} {tuple(m.shape)}"


@case(
    "modern.window_mask",
    hint="Query i sees keys i - W + 1 ... i: W keys once far enough from the start.",
)
def window_counts(fn):
    m = fn(8, 4)
    assert m.sum(1).tolist() == [1, 2, 3, 4, 4, 4, 4, 4], "wrong number of visible keys per query"


@case("modern.window_mask", hint="Never let a query see a later key.")
def window_causal(fn):
    m = fn(6, 3)
    assert not m.triu(1).any(), "some query sees the future"
