"""A small GPT (Radford et al. 2018, 2019): a decoder-only transformer language model.

    h_0 = E[x] + P,   h_l = Block_l(h_{l-1}) with a causal mask,   logits = LN(h_L) E^T

Pre-LN blocks (chapter 13's ``TransformerBlock(norm_first=True)``, with GELU and fused
attention), learned position embeddings, and an output layer tied to the token embedding E (as in GPT-2). The same network
with a full mask is a BERT-style encoder and with a prefix mask a prefix LM; ``mask`` selects it.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..validation import check_ids, check_tensor
from .transformer import apply_rope, count_parameters


class GPTBlock(nn.Module):
    """Pre-LN block:  H = X + MHA(LN(X)),  Y = H + W_2 act(W_1 LN(H)).

    The same computation as chapter 13's ``TransformerBlock(norm_first=True)`` (with
    ``activation="relu"`` the outputs agree, see ``load_from_block``), written with one fused
    Q/K/V projection and PyTorch's fused ``F.scaled_dot_product_attention``: several times
    faster on a CPU, which is what lets the GPT train inside the chapter's time budget.
    """

    def __init__(self, d_model, num_heads, d_ff, dropout=0.0, activation="gelu", rope=False):
        super().__init__()
        self.rope = rope
        if activation not in ("gelu", "relu"):
            raise ValueError(f"activation must be 'gelu' or 'relu', got {activation!r}")
        self.h, self.p, self.activation = num_heads, dropout, activation
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.W_o = nn.Linear(d_model, d_model)
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.drop = nn.Dropout(dropout)

    def attention(self, x, mask=None):
        B, T, d = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        if self.rope:
            pos = torch.arange(T, device=x.device)
            q, k = apply_rope(q, pos), apply_rope(k, pos)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=mask is None, dropout_p=self.p * self.training
        )
        return self.W_o(out.transpose(1, 2).reshape(B, T, d))

    def forward(self, x, mask=None):
        x = x + self.drop(self.attention(self.norm1(x), mask))
        act = F.gelu if self.activation == "gelu" else F.relu
        return x + self.drop(self.linear2(act(self.linear1(self.norm2(x)))))

    @torch.no_grad()
    def load_from_block(self, block):
        """Copy the weights of a ``TransformerBlock`` (pre-LN) of the same sizes."""
        a = block.attn
        self.qkv.weight.copy_(torch.cat([a.W_q.weight, a.W_k.weight, a.W_v.weight]))
        self.qkv.bias.copy_(torch.cat([a.W_q.bias, a.W_k.bias, a.W_v.bias]))
        for mine, theirs in (
            (self.W_o, a.W_o),
            (self.linear1, block.linear1),
            (self.linear2, block.linear2),
            (self.norm1, block.norm1),
            (self.norm2, block.norm2),
        ):
            mine.load_state_dict(theirs.state_dict())
        return self


class GPT(nn.Module):
    """Token + position embeddings, ``num_layers`` pre-LN blocks, final LayerNorm, tied head."""

    def __init__(
        self,
        vocab_size: int,
        *,
        d_model: int = 64,
        num_heads: int = 4,
        num_layers: int = 2,
        context: int = 64,
        d_ff: int | None = None,
        dropout: float = 0.0,
        positions: str = "learned",
    ):
        super().__init__()
        if vocab_size < 2:
            raise ValueError(f"vocab_size must be >= 2, got {vocab_size}")
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} must be divisible by num_heads={num_heads}")
        if positions not in ("learned", "rope"):
            raise ValueError(f"positions must be 'learned' or 'rope', got {positions!r}")
        self.context = context
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Parameter(torch.zeros(context, d_model), requires_grad=positions == "learned")
        rope = positions == "rope"
        self.blocks = nn.ModuleList(
            GPTBlock(d_model, num_heads, d_ff or 4 * d_model, dropout, rope=rope)
            for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(d_model)
        self._init(num_layers)

    @torch.no_grad()
    def _init(self, num_layers):
        """GPT-2's initialisation: N(0, 0.02) weights, zero biases, and the projections that
        write into the residual stream scaled by 1/sqrt(2 * num_layers)."""
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, std=0.02)
                if name.endswith(("W_o.weight", "linear2.weight")):
                    p.mul_(1 / math.sqrt(2 * num_layers))
            elif name.endswith("bias"):
                nn.init.zeros_(p)
        if self.pos.requires_grad:
            nn.init.normal_(self.pos, std=0.02)

    def forward(self, idx, mask=None):
        """``idx`` (B, T) token ids -> logits (B, T, vocab). ``mask`` (T, T) boolean, True = may
        attend; the default is causal."""
        check_tensor("idx", idx, ndim=2)
        check_ids("idx", idx, self.tok.num_embeddings)
        T = idx.shape[1]
        if T > self.context:
            raise ValueError(f"sequence length {T} exceeds the context {self.context}")
        x = self.tok(idx) + self.pos[:T]
        for block in self.blocks:
            x = block(x, mask)
        return self.norm(x) @ self.tok.weight.T

    def num_parameters(self) -> int:
        return count_parameters(self)


class AsCharLM(nn.Module):
    """Gives a GPT the interface of chapter 12's ``CharLM``, ``forward(x, state) -> (logits,
    state)``, so that the same training loop (``train_char_lm``) trains both. A transformer
    has no recurrent state: it is ignored and returned as None."""

    def __init__(self, gpt: GPT):
        super().__init__()
        self.gpt = gpt

    def forward(self, x, state=None):
        return self.gpt(x), None


@torch.no_grad()
def window_cross_entropy(model, ids, window: int, *, batch_size: int = 256) -> float:
    """Mean -ln p(x_t | x_<t) in nats, scoring ``ids`` in non-overlapping windows of
    ``window + 1`` ids read independently (fresh state, no earlier text): every model gets the
    same information. ``model(x)`` returns logits or a (logits, state) pair."""
    if ids.dim() != 1 or len(ids) < window + 1:
        raise ValueError(f"ids must be 1-D with at least window + 1 = {window + 1} entries")
    dev = next(model.parameters()).device
    n = (len(ids) - 1) // window
    starts = torch.arange(n, device=dev) * window
    idx = starts[:, None] + torch.arange(window + 1, device=dev)
    w = ids.to(dev)[idx]
    was_training = model.training
    model.eval()
    total = 0.0
    for s in range(0, n, batch_size):
        x, y = w[s : s + batch_size, :-1], w[s : s + batch_size, 1:]
        out = model(x)
        logits = out[0] if isinstance(out, tuple) else out
        total += F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum").item()
    model.train(was_training)
    return total / (n * window)


__all__ = ["GPTBlock", "GPT", "AsCharLM", "window_cross_entropy"]
