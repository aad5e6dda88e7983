"""Attention from scratch: score functions, pooling, scaled dot-product and multi-head attention.

Conventions used throughout:

* tensors are batch-first: queries ``(B, ..., T_q, d)``, keys/values ``(B, ..., T_k, d)``;
* a **mask** is boolean and broadcastable to the score matrix ``(..., T_q, T_k)``; ``True``
  means *may attend* (the convention of ``torch.nn.functional.scaled_dot_product_attention``).
  Masked scores are set to ``-inf`` *before* the softmax, so they get exactly zero weight.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..validation import check_tensor


def _check_mask(mask, scores):
    if mask is None:
        return
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        raise TypeError("mask must be a boolean tensor (True = may attend)")
    try:
        torch.broadcast_shapes(mask.shape, scores.shape)
    except RuntimeError:
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not broadcast to the scores "
            f"{tuple(scores.shape)}"
        ) from None


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Softmax over the last axis after setting the scores where ``mask`` is False to -inf.

    alpha_ij = exp(e_ij) / sum_{k allowed} exp(e_ik),  alpha_ij = 0 where j is not allowed.
    A row with no allowed position gets all-zero weights instead of NaN.
    """
    _check_mask(mask, scores)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return torch.nan_to_num(weights, nan=0.0)


def causal_mask(T: int, device=None) -> torch.Tensor:
    """Boolean (T, T) mask with True on and below the diagonal: position i sees j <= i."""
    if not isinstance(T, int) or T < 1:
        raise ValueError(f"T must be a positive int, got {T!r}")
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def scaled_dot_product_attention(q, k, v, mask=None, *, is_causal: bool = False):
    """Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V.

    ``q``: (..., T_q, d_k), ``k``: (..., T_k, d_k), ``v``: (..., T_k, d_v). ``mask`` is boolean
    (True = may attend); ``is_causal`` adds the causal mask tril(ones(T_q, T_k)): query i sees
    keys j <= i. That is torch's top-left alignment, also when T_q != T_k. A KV-cache step,
    whose T_q queries are the *last* T_q positions, needs the bottom-right alignment instead:
    pass ``mask=position_mask(q_pos, k_pos)`` (``models.transformer``), as
    ``GroupedQueryAttention`` does. Returns ``(output, weights)`` with output (..., T_q, d_v)
    and weights (..., T_q, T_k).
    """
    check_tensor("q", q, dtype="floating")
    check_tensor("k", k, dtype="floating")
    check_tensor("v", v, dtype="floating")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k need the same last size d_k, got {q.shape[-1]} and {k.shape[-1]}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v need the same length T_k, got {k.shape[-2]} and {v.shape[-2]}")
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if is_causal:
        T_q, T_k = scores.shape[-2:]
        cm = torch.ones(T_q, T_k, dtype=torch.bool, device=q.device).tril()
        mask = cm if mask is None else mask & cm
    weights = masked_softmax(scores, mask)
    return weights @ v, weights


def _check_query_keys(query, keys, query_dim, key_dim):
    check_tensor("query", query, shape=(None, query_dim), dtype="floating")
    check_tensor("keys", keys, shape=(query.shape[0], None, key_dim), dtype="floating")


class AdditiveAttention(nn.Module):
    """Bahdanau's score  e_j = v^T tanh(W_q u + W_k h_j); weights alpha = softmax(e)."""

    def __init__(self, query_dim: int, key_dim: int, hidden: int):
        super().__init__()
        self.W_q = nn.Linear(query_dim, hidden, bias=False)
        self.W_k = nn.Linear(key_dim, hidden, bias=True)
        self.v = nn.Linear(hidden, 1, bias=False)

    def forward(self, query, keys, values=None, mask=None):
        """``query`` (B, d_q), ``keys`` (B, T, d_k), ``values`` (B, T, d_v) (default: keys).

        Returns ``(context (B, d_v), weights (B, T))``; ``mask`` (B, T) is True where allowed.
        """
        _check_query_keys(query, keys, self.W_q.in_features, self.W_k.in_features)
        values = keys if values is None else values
        scores = self.v(torch.tanh(self.W_q(query)[:, None, :] + self.W_k(keys))).squeeze(-1)
        weights = masked_softmax(scores, mask)
        return (weights[:, :, None] * values).sum(1), weights


class MultiplicativeAttention(nn.Module):
    """Luong's bilinear score  e_j = u^T W h_j  (scaled by 1/sqrt(d_k) for stable softmax)."""

    def __init__(self, query_dim: int, key_dim: int):
        super().__init__()
        self.W = nn.Linear(key_dim, query_dim, bias=False)

    def forward(self, query, keys, values=None, mask=None):
        """Same interface as ``AdditiveAttention``."""
        _check_query_keys(query, keys, self.W.out_features, self.W.in_features)
        values = keys if values is None else values
        scores = (self.W(keys) @ query[:, :, None]).squeeze(-1) / math.sqrt(keys.shape[-1])
        weights = masked_softmax(scores, mask)
        return (weights[:, :, None] * values).sum(1), weights


class AttentionPooling(nn.Module):
    """Attention pooling with a learned context vector u (Yang et al., 2016).

    s_j = tanh(W h_j + b),  alpha_j = exp(s_j . u) / sum_t exp(s_t . u),  c = sum_j alpha_j h_j.
    """

    def __init__(self, dim: int, hidden: int = 32):
        super().__init__()
        self.proj = nn.Linear(dim, hidden)
        self.u = nn.Parameter(torch.randn(hidden) / math.sqrt(hidden))

    def forward(self, h, mask=None):
        """``h`` (B, T, dim) -> ``(c (B, dim), weights (B, T))``."""
        if h.dim() != 3:
            raise ValueError(f"h must have shape (B, T, dim), got {tuple(h.shape)}")
        scores = torch.tanh(self.proj(h)) @ self.u
        weights = masked_softmax(scores, mask)
        return (weights[:, :, None] * h).sum(1), weights


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """(B, T, h*d) -> (B, h, T, d): head r gets the features r*d ... (r+1)*d - 1."""
    check_tensor("x", x, ndim=3)
    B, T, D = x.shape
    if D % num_heads:
        raise ValueError(f"the feature size {D} is not divisible by num_heads={num_heads}")
    return x.view(B, T, num_heads, D // num_heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, h, T, d) -> (B, T, h*d), the inverse of ``split_heads``."""
    B, H, T, d = x.shape
    return x.transpose(1, 2).reshape(B, T, H * d)


class MultiHeadAttention(nn.Module):
    """MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,
    head_r = Attention(Q W_r^Q, K W_r^K, V W_r^V).

    The h heads are the h chunks of one d_model x d_model projection ("split" variant), the
    layout ``nn.MultiheadAttention`` uses, so weights can be copied with ``load_from_torch``.
    """

    def __init__(self, d_model: int, num_heads: int, bias: bool = True):
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} must be divisible by num_heads={num_heads}")
        self.d_model, self.num_heads = d_model, num_heads
        self.W_q = nn.Linear(d_model, d_model, bias=bias)
        self.W_k = nn.Linear(d_model, d_model, bias=bias)
        self.W_v = nn.Linear(d_model, d_model, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)
        self.last_weights = None  # (B, h, T_q, T_k) of the last call, for plots

    def forward(self, query, key=None, value=None, mask=None, *, is_causal=False):
        """Self-attention when only ``query`` (B, T, d_model) given; returns (B, T_q, d_model)."""
        key = query if key is None else key
        value = key if value is None else value
        width = (None, None, self.d_model)
        check_tensor("query", query, shape=width, dtype="floating")
        check_tensor("key", key, shape=width, dtype="floating")
        check_tensor("value", value, shape=(key.shape[0], key.shape[1], self.d_model))
        q = split_heads(self.W_q(query), self.num_heads)
        k = split_heads(self.W_k(key), self.num_heads)
        v = split_heads(self.W_v(value), self.num_heads)
        out, weights = scaled_dot_product_attention(q, k, v, mask, is_causal=is_causal)
        self.last_weights = weights.detach()
        return self.W_o(merge_heads(out))

    @torch.no_grad()
    def load_from_torch(self, mha: nn.MultiheadAttention):
        """Copy the weights of a ``nn.MultiheadAttention`` with the same sizes, exactly.

        Refuses (ValueError) a module that differs in layout: another width or head count,
        biases on one side only, separate key/value widths, or extra key/value biases.
        """
        if mha.embed_dim != self.d_model or mha.num_heads != self.num_heads:
            raise ValueError(
                f"mha must have embed_dim={self.d_model} and num_heads={self.num_heads}, "
                f"got {mha.embed_dim} and {mha.num_heads}"
            )
        ours, theirs = self.W_q.bias is not None, mha.in_proj_bias is not None
        if ours != theirs:
            raise ValueError(
                f"mha has bias={theirs} but this module bias={ours}: "
                f"create MultiHeadAttention(..., bias={theirs}) to copy it exactly"
            )
        if mha.in_proj_weight is None or mha.bias_k is not None:
            raise ValueError("mha must use one packed in_proj_weight and no bias_k/bias_v")
        for W, w, b in zip(  # noqa: B905 (three chunks each)
            (self.W_q, self.W_k, self.W_v),
            mha.in_proj_weight.chunk(3),
            mha.in_proj_bias.chunk(3) if theirs else (None,) * 3,
        ):
            W.weight.copy_(w)
            if b is not None:
                W.bias.copy_(b)
        self.W_o.weight.copy_(mha.out_proj.weight)
        if theirs:
            self.W_o.bias.copy_(mha.out_proj.bias)
        return self


def sinusoidal_encoding(
    T: int, d: int, base: float = 10000.0, device=None, dtype=torch.float32
) -> torch.Tensor:
    """(T, d) table  PE[pos, 2i] = sin(pos / base^(2i/d)),  PE[pos, 2i+1] = cos(pos / base^(2i/d)),

    for pos = 0..T-1 and i = 0..d/2-1.
    """
    if d % 2:
        raise ValueError(f"d must be even, got {d}")
    pos = torch.arange(T, dtype=dtype, device=device)[:, None]
    freq = base ** (-torch.arange(0, d, 2, dtype=dtype, device=device) / d)
    pe = torch.zeros(T, d, dtype=dtype, device=device)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe


def attention_reference(q, k, v, mask=None, is_causal=False):
    """PyTorch's fused kernel, for comparisons: ``F.scaled_dot_product_attention``."""
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal)


def _seq2seq_base():
    from .seq2seq import Seq2Seq  # chapter 12's fixed-context encoder-decoder

    return Seq2Seq


class AttentionSeq2Seq(_seq2seq_base()):
    """Chapter 12's GRU encoder-decoder with attention (Bahdanau et al. 2015).

    Only the context changes: instead of the last encoder state, each decoder step gets
        e_tj = a(s_{t-1}, h_j),  alpha_tj = softmax_j(e_tj),  c_t = sum_j alpha_tj h_j,
    where the score a is ``"additive"`` (v^T tanh(W_q s + W_k h)) or ``"multiplicative"``
    (s^T W h / sqrt(H)). Padded source positions get zero weight.
    """

    def __init__(
        self,
        vocab_size: int,
        emb_dim: int = 32,
        hidden: int = 128,
        *,
        score: str = "additive",
        **kwargs,
    ):
        super().__init__(vocab_size, emb_dim, hidden, **kwargs)
        if score == "additive":
            self.attention = AdditiveAttention(hidden, hidden, hidden)
        elif score == "multiplicative":
            self.attention = MultiplicativeAttention(hidden, hidden)
        else:
            raise ValueError(f"score must be 'additive' or 'multiplicative', got {score!r}")

    def context(self, query, enc_out, src_mask):
        return self.attention(query, enc_out, mask=src_mask)
