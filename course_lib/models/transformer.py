"""Transformer blocks: the 2017 block (post-LN and pre-LN), a tiny character-level decoder, and the
pieces of a modern (Llama/Mistral-style) block: RMSNorm, SwiGLU, rotary position embeddings,
grouped-query attention with a KV cache, and sliding-window masks.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ..validation import check_ids, check_int, check_tensor
from .attention import MultiHeadAttention, scaled_dot_product_attention, sinusoidal_encoding

# --------------------------------------------------------------------------------------------
# The original block
# --------------------------------------------------------------------------------------------


class TransformerBlock(nn.Module):
    """One encoder block: multi-head self-attention and a position-wise ReLU MLP, each with a
    residual connection and LayerNorm.

    post-LN (Vaswani et al. 2017, ``norm_first=False``):
        H = LN(X + MHA(X)),  Y = LN(H + FFN(H))
    pre-LN (``norm_first=True``, GPT-2 and later):
        H = X + MHA(LN(X)),  Y = H + FFN(LN(H))
    with FFN(x) = max(0, x W_1 + b_1) W_2 + b_2.
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        d_ff: int,
        dropout: float = 0.0,
        norm_first: bool = False,
    ):
        super().__init__()
        self.attn = MultiHeadAttention(d_model, num_heads)
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)
        self.norm_first = norm_first

    def _ffn(self, x):
        return self.linear2(self.drop(F.relu(self.linear1(x))))

    def forward(self, x, mask=None, *, is_causal: bool = False):
        """``x`` (B, T, d_model) -> (B, T, d_model)."""
        if self.norm_first:
            x = x + self.drop(self.attn(self.norm1(x), mask=mask, is_causal=is_causal))
            return x + self.drop(self._ffn(self.norm2(x)))
        x = self.norm1(x + self.drop(self.attn(x, mask=mask, is_causal=is_causal)))
        return self.norm2(x + self.drop(self._ffn(x)))

    @torch.no_grad()
    def load_from_torch(self, layer: nn.TransformerEncoderLayer):
        """Copy the weights of a ``nn.TransformerEncoderLayer`` (ReLU, same sizes)."""
        self.attn.load_from_torch(layer.self_attn)
        for mine, theirs in (
            (self.linear1, layer.linear1),
            (self.linear2, layer.linear2),
            (self.norm1, layer.norm1),
            (self.norm2, layer.norm2),
        ):
            mine.load_state_dict(theirs.state_dict())
        return self


class CharTransformer(nn.Module):
    """A tiny decoder-only language model: token + position embeddings, pre-LN blocks with a
    causal mask, a final LayerNorm and a linear head giving next-token logits.

    ``positions`` is ``"learned"`` (one vector per position), ``"sinusoidal"`` or ``None``.
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 64,
        num_heads: int = 4,
        num_layers: int = 2,
        context: int = 64,
        d_ff: int | None = None,
        dropout: float = 0.0,
        positions: str | None = "learned",
    ):
        super().__init__()
        if positions not in ("learned", "sinusoidal", None):
            raise ValueError(
                f"positions must be 'learned', 'sinusoidal' or None, got {positions!r}"
            )
        self.context, self.positions = context, positions
        self.tok = nn.Embedding(vocab_size, d_model)
        if positions == "learned":
            self.pos = nn.Parameter(torch.randn(context, d_model) * 0.02)
        else:
            pe = (
                sinusoidal_encoding(context, d_model)
                if positions
                else torch.zeros(context, d_model)
            )
            self.register_buffer("pos", pe, persistent=False)
        self.blocks = nn.ModuleList(
            TransformerBlock(d_model, num_heads, d_ff or 4 * d_model, dropout, norm_first=True)
            for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, idx):
        """``idx`` (B, T) token ids, T <= context -> logits (B, T, vocab_size)."""
        check_tensor("idx", idx, ndim=2)
        check_ids("idx", idx, self.tok.num_embeddings)
        T = idx.shape[1]
        if T > self.context:
            raise ValueError(f"sequence length {T} exceeds the context {self.context}")
        x = self.tok(idx) + self.pos[:T]
        for block in self.blocks:
            x = block(x, is_causal=True)
        return self.head(self.norm(x))

    def attentions(self):
        """Attention weights of the last forward pass: a list (one per layer) of (B, h, T, T)."""
        return [block.attn.last_weights for block in self.blocks]

    @torch.no_grad()
    def generate(self, idx, n: int, *, temperature: float = 1.0, generator=None):
        """Append ``n`` sampled tokens to ``idx`` (B, T0); returns (B, T0 + n)."""
        was_training = self.training
        self.eval()
        for _ in range(n):
            logits = self(idx[:, -self.context :])[:, -1] / temperature
            probs = torch.softmax(logits, dim=-1)
            nxt = torch.multinomial(probs.cpu(), 1, generator=generator).to(idx.device)
            idx = torch.cat([idx, nxt], dim=1)
        self.train(was_training)
        return idx


def lm_batches(ids: torch.Tensor, context: int, batch_size: int, generator=None):
    """A random batch of windows: inputs ids[s:s+context], targets ids[s+1:s+context+1].

    Every start s = 0 .. len(ids) - context - 1 is equally likely, so the last window ends at
    the last id and a text of exactly context + 1 ids has one window.
    ``generator`` must live on the same device as ``ids``.
    """
    check_tensor("ids", ids, ndim=1, dtype="integer")
    context = check_int("context", context, min_value=1)
    if len(ids) < context + 1:
        raise ValueError(f"ids must hold at least context + 1 = {context + 1} ids, got {len(ids)}")
    starts = torch.randint(
        0, len(ids) - context, (batch_size,), generator=generator, device=ids.device
    )
    offsets = torch.arange(context, device=ids.device)
    x = ids[starts[:, None] + offsets]
    return x, ids[starts[:, None] + offsets + 1]


# --------------------------------------------------------------------------------------------
# Modern pieces
# --------------------------------------------------------------------------------------------


class RMSNorm(nn.Module):
    """RMSNorm(x) = g * x / sqrt(mean_i x_i^2 + eps)  (Zhang and Sennrich 2019): LayerNorm without
    the mean subtraction and without the bias."""

    def __init__(self, d: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


class SwiGLU(nn.Module):
    """SwiGLU(x) = W_2 (SiLU(W_1 x) * W_3 x),  SiLU(z) = z sigmoid(z)  (Shazeer 2020).

    The gate W_1 x decides, feature by feature, how much of the value W_3 x passes.
    """

    def __init__(self, d_model: int, hidden: int):
        super().__init__()
        self.W1 = nn.Linear(d_model, hidden, bias=False)
        self.W3 = nn.Linear(d_model, hidden, bias=False)
        self.W2 = nn.Linear(hidden, d_model, bias=False)

    def forward(self, x):
        return self.W2(F.silu(self.W1(x)) * self.W3(x))


def rope_angles(positions: torch.Tensor, d: int, base: float = 10000.0, dtype=torch.float32):
    """cos and sin of the angles m * theta_i, theta_i = base^(-2(i-1)/d), i = 1..d/2.

    ``positions`` (T,) -> ``(cos, sin)``, each (T, d/2), computed in ``dtype``.
    """
    if d % 2:
        raise ValueError(f"the head size d must be even for RoPE, got {d}")
    theta = base ** (-torch.arange(0, d, 2, dtype=dtype, device=positions.device) / d)
    angles = positions.to(dtype)[:, None] * theta[None, :]
    return angles.cos(), angles.sin()


def apply_rope(x, positions, *, base: float = 10000.0, interleaved: bool = False):
    """Rotate each pair of features of ``x`` (..., T, d) by the angle m * theta_i.

    ``interleaved=True`` rotates the pairs (x_1, x_2), (x_3, x_4), ... (the block matrix
    R_{Theta,m} of Su et al.); ``False`` rotates (x_i, x_{i+d/2}) ("rotate half", the layout of
    GPT-NeoX and Llama code). The two agree up to a fixed permutation of the features.
    The angles are computed in float64 for a float64 ``x``, else in float32 (the error of a
    float32 angle m * theta grows with the position m).
    """
    check_tensor("x", x, dtype="floating")
    if x.ndim < 2:
        raise ValueError(f"x must be (..., T, d), got shape {tuple(x.shape)}")
    T, d = x.shape[-2:]
    if positions.shape != (T,):
        raise ValueError(f"positions must have shape ({T},), got {tuple(positions.shape)}")
    wide = torch.float64 if x.dtype == torch.float64 else torch.float32
    cos, sin = rope_angles(positions, d, base, dtype=wide)
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    if interleaved:
        x1, x2 = x[..., 0::2], x[..., 1::2]
        out = torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)
        return out.flatten(-2)
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def rope_matrix(m: int, d: int, base: float = 10000.0) -> torch.Tensor:
    """The explicit block-diagonal rotation R_{Theta,m} (d, d), for teaching and testing."""
    cos, sin = rope_angles(torch.tensor([m]), d, base)
    R = torch.zeros(d, d)
    for i in range(d // 2):
        c, s = cos[0, i], sin[0, i]
        R[2 * i, 2 * i], R[2 * i, 2 * i + 1] = c, -s
        R[2 * i + 1, 2 * i], R[2 * i + 1, 2 * i + 1] = s, c
    return R


def sliding_window_mask(T: int, w: int, *, causal: bool = True, global_tokens=(), device=None):
    """Boolean (T, T) local-attention mask (Longformer), True = may attend.

    causal: query i sees keys i - w/2 ... i (w/2 + 1 tokens, Mistral-style);
    bidirectional: query i sees keys with |i - j| <= w/2.
    ``global_tokens`` (positions) attend to every (allowed) key and every query attends to them.
    """
    if not isinstance(w, int) or w < 0 or w % 2:
        raise ValueError(f"w must be a non-negative even int, got {w!r}")
    T = check_int("T", T, min_value=1)
    bad = [p for p in global_tokens if not 0 <= p < T]
    if bad:
        raise ValueError(f"global_tokens must be positions in [0, {T}), got {bad}")
    i = torch.arange(T, device=device)[:, None]
    j = torch.arange(T, device=device)[None, :]
    mask = (i - j).abs() <= w // 2
    g = torch.zeros(T, dtype=torch.bool, device=device)
    g[list(global_tokens)] = True
    mask = mask | g[:, None] | g[None, :]
    if causal:
        mask = mask & (j <= i)
    return mask


def position_mask(q_pos, k_pos, window: int | None = None):
    """Causal (and optionally windowed) mask from absolute positions: key j is visible to query i
    when k_pos[j] <= q_pos[i] and, with a window W, q_pos[i] - k_pos[j] < W."""
    diff = q_pos[:, None] - k_pos[None, :]
    mask = diff >= 0
    if window is not None:
        mask = mask & (diff < window)
    return mask


class KVCache:
    """Keys and values of the tokens seen so far, one (B, h_kv, T, d_head) pair per layer.

    At step t only the new token's key and value are computed; the old ones are reused.
    Queries, scores and weights are never stored.
    """

    def __init__(self, num_layers: int):
        self.k = [None] * num_layers
        self.v = [None] * num_layers

    def __len__(self):
        return 0 if self.k[0] is None else self.k[0].shape[-2]

    def append(self, layer: int, k, v):
        """Store the new keys/values of ``layer``; return all of them."""
        check_tensor("k", k, ndim=4)
        check_tensor("v", v, shape=(*k.shape[:-1], None))
        old = self.k[layer]
        if old is not None and (k.shape[:2] != old.shape[:2] or k.shape[-1] != old.shape[-1]):
            raise ValueError(
                f"k must have shape ({old.shape[0]}, {old.shape[1]}, T, {old.shape[-1]}) like "
                f"the cached keys (same batch size and heads), got {tuple(k.shape)}"
            )
        if self.k[layer] is not None:
            k = torch.cat([self.k[layer], k], dim=-2)
            v = torch.cat([self.v[layer], v], dim=-2)
        self.k[layer], self.v[layer] = k, v
        return k, v

    def numel(self) -> int:
        """Number of cached numbers (keys + values, all layers)."""
        return sum(t.numel() for t in self.k + self.v if t is not None)


class GroupedQueryAttention(nn.Module):
    """Grouped-query attention (Ainslie et al. 2023) with rotary positions and a KV cache.

    h_q query heads share h_kv key/value heads, g = h_q / h_kv queries per key/value head:
        head_(i,j) = softmax(Q^(i,j) K^(i)T / sqrt(d_k) + M) V^(i).
    h_kv = h_q is multi-head attention, h_kv = 1 is multi-query attention.
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        num_kv_heads: int | None = None,
        *,
        rope: bool = True,
        window: int | None = None,
    ):
        super().__init__()
        num_kv_heads = num_heads if num_kv_heads is None else num_kv_heads
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} must be divisible by num_heads={num_heads}")
        if num_heads % num_kv_heads:
            raise ValueError(
                f"num_heads={num_heads} must be divisible by num_kv_heads={num_kv_heads}"
            )
        self.h, self.h_kv, self.d_head = num_heads, num_kv_heads, d_model // num_heads
        self.rope, self.window = rope, window
        self.W_q = nn.Linear(d_model, d_model, bias=False)
        self.W_k = nn.Linear(d_model, num_kv_heads * self.d_head, bias=False)
        self.W_v = nn.Linear(d_model, num_kv_heads * self.d_head, bias=False)
        self.W_o = nn.Linear(d_model, d_model, bias=False)
        self.last_weights = None

    def forward(self, x, *, cache: KVCache | None = None, layer: int = 0):
        """``x`` (B, T, d_model): the new tokens, which come after the cached ones if any."""
        check_tensor("x", x, shape=(None, None, self.W_q.in_features), dtype="floating")
        B, T, _ = x.shape
        start = 0 if cache is None or cache.k[layer] is None else cache.k[layer].shape[-2]
        pos = torch.arange(start, start + T, device=x.device)
        q = self.W_q(x).view(B, T, self.h, self.d_head).transpose(1, 2)
        k = self.W_k(x).view(B, T, self.h_kv, self.d_head).transpose(1, 2)
        v = self.W_v(x).view(B, T, self.h_kv, self.d_head).transpose(1, 2)
        if self.rope:
            q, k = apply_rope(q, pos), apply_rope(k, pos)
        if cache is not None:
            k, v = cache.append(layer, k, v)
        k_pos = torch.arange(k.shape[-2], device=x.device)
        mask = position_mask(pos, k_pos, self.window)
        g = self.h // self.h_kv
        # each key/value head serves g consecutive query heads
        k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
        out, weights = scaled_dot_product_attention(q, k, v, mask)
        self.last_weights = weights.detach()
        return self.W_o(out.transpose(1, 2).reshape(B, T, self.h * self.d_head))


class ModernBlock(nn.Module):
    """Pre-norm block of Llama/Mistral: H = X + GQA(RMSNorm(X)),  Y = H + SwiGLU(RMSNorm(H)),
    with rotary positions inside the attention and an optional sliding window."""

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        num_kv_heads: int | None = None,
        d_ff: int | None = None,
        window: int | None = None,
    ):
        super().__init__()
        self.norm1, self.norm2 = RMSNorm(d_model), RMSNorm(d_model)
        self.attn = GroupedQueryAttention(d_model, num_heads, num_kv_heads, window=window)
        self.mlp = SwiGLU(d_model, d_ff or (8 * d_model) // 3)

    def forward(self, x, *, cache=None, layer: int = 0):
        x = x + self.attn(self.norm1(x), cache=cache, layer=layer)
        return x + self.mlp(self.norm2(x))


class ModernLM(nn.Module):
    """Decoder-only LM from ``ModernBlock``s; no position embedding (RoPE does it) and the output
    layer shares the input embedding matrix (tied weights, as in PaLM)."""

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 64,
        num_heads: int = 4,
        num_kv_heads: int | None = None,
        num_layers: int = 2,
        d_ff: int | None = None,
        window: int | None = None,
    ):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, d_model)
        nn.init.normal_(self.tok.weight, std=d_model**-0.5)
        self.blocks = nn.ModuleList(
            ModernBlock(d_model, num_heads, num_kv_heads, d_ff, window) for _ in range(num_layers)
        )
        self.norm = RMSNorm(d_model)

    def forward(self, idx, *, cache: KVCache | None = None):
        """``idx`` (B, T) -> logits (B, T, vocab); with ``cache``, ``idx`` holds new tokens only."""
        check_tensor("idx", idx, ndim=2)
        check_ids("idx", idx, self.tok.num_embeddings)
        x = self.tok(idx)
        for i, block in enumerate(self.blocks):
            x = block(x, cache=cache, layer=i)
        return self.norm(x) @ self.tok.weight.T

    @torch.no_grad()
    def generate(self, idx, n: int, *, use_cache: bool = True):
        """Greedy decoding of ``n`` tokens after the prompt ``idx`` (B, T0).

        Without a cache every step re-runs the whole sequence (cost ~ T^2 per step); with a
        cache the prompt is run once and each step feeds only the newest token.
        """
        was_training = self.training
        self.eval()
        if use_cache:
            cache = KVCache(len(self.blocks))
            logits = self(idx, cache=cache)
            for _ in range(n):
                nxt = logits[:, -1].argmax(-1, keepdim=True)
                idx = torch.cat([idx, nxt], dim=1)
                logits = self(nxt, cache=cache)
        else:
            for _ in range(n):
                nxt = self(idx)[:, -1].argmax(-1, keepdim=True)
                idx = torch.cat([idx, nxt], dim=1)
        self.train(was_training)
        return idx


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


__all__ = [
    "TransformerBlock",
    "CharTransformer",
    "lm_batches",
    "RMSNorm",
    "SwiGLU",
    "rope_angles",
    "apply_rope",
    "rope_matrix",
    "sliding_window_mask",
    "position_mask",
    "KVCache",
    "GroupedQueryAttention",
    "ModernBlock",
    "ModernLM",
    "count_parameters",
]
