"""Induction heads in miniature (chapter 15b; Elhage et al. 2021, Olsson et al. 2022).

An attention-only transformer (no MLPs) trained on random tokens in which a span repeats:

    h_0 = E[x] + P,   h_l = h_{l-1} + MHA_l(LN(h_{l-1})) with a causal mask,
    logits = LN(h_L) W_U.

The first occurrence of the span is unpredictable (loss ln V for V tokens); the second can be
copied. Two scores per head read its attention weights alpha (T x T, row t = query t):

    previous-token score  = mean_{t >= 1} alpha[t, t - 1],
    induction score       = mean over t with an earlier occurrence j < t of x_t (the latest)
                            of alpha[t, j + 1]   (the token that followed it last time).
"""

import torch
import torch.nn.functional as F
from torch import nn

from .models.attention import MultiHeadAttention, causal_mask
from .validation import check_ids, check_int, check_tensor


class AttentionOnlyTransformer(nn.Module):
    """Token and learned position embeddings, ``num_layers`` pre-LN attention-only residual
    blocks with a causal mask, a final LayerNorm and an output layer."""

    def __init__(self, vocab_size, *, d_model=32, num_heads=2, num_layers=2, context=64):
        super().__init__()
        self.context = context
        self.tok = nn.Embedding(vocab_size, d_model)
        # Small learned positions next to N(0, 1) token vectors: at first the heads see tokens,
        # and position patterns (the previous-token head) must be learned.
        self.pos = nn.Parameter(0.02 * torch.randn(context, d_model))
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(num_layers))
        self.attn = nn.ModuleList(MultiHeadAttention(d_model, num_heads) for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model)
        self.unembed = nn.Linear(d_model, vocab_size, bias=False)

    def forward(self, idx):
        """``idx`` (B, T) token ids -> logits (B, T, vocab)."""
        check_tensor("idx", idx, ndim=2)
        check_ids("idx", idx, self.tok.num_embeddings)
        T = idx.shape[1]
        if T > self.context:
            raise ValueError(f"sequence length {T} exceeds the context {self.context}")
        mask = causal_mask(T, device=idx.device)
        x = self.tok(idx) + self.pos[:T]
        for norm, attn in zip(self.norms, self.attn, strict=True):
            x = x + attn(norm(x), mask=mask)
        return self.unembed(self.norm(x))

    def attentions(self):
        """The weights of the last forward pass: one (B, heads, T, T) tensor per layer."""
        return [a.last_weights for a in self.attn]


def repeated_span_batch(batch, length, vocab_size, span, *, generator=None, device=None):
    """``batch`` sequences of ``length`` uniform random tokens in which a span of ``span``
    tokens, starting at ``first``, is copied to start at ``second >= first + span``.

    Returns ``(tokens (B, T), first (B,), second (B,))``.
    """
    check_int("span", span, min_value=2)
    if length < 2 * span:
        raise ValueError(f"length must be >= 2 * span = {2 * span}, got {length}")
    kw = {"generator": generator}
    tokens = torch.randint(vocab_size, (batch, length), **kw)
    first = torch.randint(length - 2 * span + 1, (batch,), **kw)
    room = length - span - (first + span) + 1  # choices of `second` after the first copy
    second = first + span + (torch.rand(batch, **kw) * room).long()
    offsets = torch.arange(span)
    rows = torch.arange(batch)[:, None]
    tokens[rows, second[:, None] + offsets] = tokens[rows, first[:, None] + offsets]
    return tokens.to(device), first.to(device), second.to(device)


def span_losses(logits, tokens, first, second, span):
    """Mean cross-entropy (nats) of predicting the span's tokens 2..span inside its first and
    inside its second occurrence (the span's first token is unpredictable in both).

    Returns ``(loss_first, loss_second)`` as floats.
    """
    B = tokens.shape[0]
    ce = F.cross_entropy(logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten(), reduction="none")
    ce = ce.view(B, -1)  # ce[:, t] is the loss of predicting token t + 1
    offsets = torch.arange(span - 1, device=tokens.device)
    rows = torch.arange(B, device=tokens.device)[:, None]
    on_first = ce[rows, first[:, None] + offsets].mean().item()
    on_second = ce[rows, second[:, None] + offsets].mean().item()
    return on_first, on_second


def previous_token_score(attn):
    """mean_{t >= 1} attn[..., t, t - 1] over the last two axes (and any leading ones)."""
    check_tensor("attn", attn, dtype="floating")
    if attn.dim() < 2 or attn.shape[-1] != attn.shape[-2] or attn.shape[-1] < 2:
        raise ValueError(f"attn must end in (T, T) with T >= 2, got {tuple(attn.shape)}")
    return attn.diagonal(offset=-1, dim1=-2, dim2=-1).mean(-1)


def induction_targets(tokens):
    """For each position t: j + 1 where j < t is the latest earlier position with the same
    token, or -1 where the token has not occurred before. ``tokens`` (..., T) -> same shape."""
    T = tokens.shape[-1]
    same = tokens[..., :, None] == tokens[..., None, :]  # same[t, j]
    earlier = torch.ones(T, T, dtype=torch.bool, device=tokens.device).tril(-1)
    pos = torch.arange(T, device=tokens.device)
    latest = torch.where(same & earlier, pos, -1).amax(-1)  # -1: no earlier occurrence
    return torch.where(latest >= 0, latest + 1, -1)


def induction_score(attn, tokens):
    """Mean of attn[t, j + 1] over the positions t whose token occurred earlier, latest at j.

    ``attn`` (..., T, T) and ``tokens`` (..., T) with the same leading axes (or ``attn`` with
    extra head axes in front of T, T, broadcast against the tokens); returns (...,).
    """
    check_tensor("attn", attn, dtype="floating")
    T = attn.shape[-1]
    if tokens.shape[-1] != T or attn.shape[-2] != T:
        raise ValueError(
            f"attn (..., T, T) and tokens (..., T) disagree: {tuple(attn.shape)}, "
            f"{tuple(tokens.shape)}"
        )
    target = induction_targets(tokens)
    has = target >= 0
    picked = attn.gather(-1, target.clamp(min=0)[..., None].expand(*attn.shape[:-1], 1))[..., 0]
    return (picked * has).sum(-1) / has.sum(-1).clamp(min=1)


def head_scores(model, tokens):
    """Per layer and head, the mean previous-token and induction scores on ``tokens`` (B, T):
    two (layers, heads) tensors."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(tokens)
    model.train(was_training)
    attn = torch.stack(model.attentions())  # (L, B, H, T, T)
    prev = previous_token_score(attn).mean(1)
    ind = induction_score(attn, tokens[None, :, None, :]).mean(1)
    return prev, ind


def train_repeats(
    model, steps, *, batch=64, length=40, span=8, lr=3e-3, seed=0, every=0, probe=None
):
    """Adam on the next-token loss of ``repeated_span_batch`` sequences (fresh ones each step,
    from ``generator``-seeded streams). With ``every`` > 0, records ``(step, loss_first,
    loss_second)`` on the fixed ``probe = (tokens, first, second)`` every ``every`` steps."""
    from .device import generator

    check_int("steps", steps, min_value=1)
    dev = next(model.parameters()).device
    V = model.tok.num_embeddings
    g = generator(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for step in range(1, steps + 1):
        x, _, _ = repeated_span_batch(batch, length, V, span, generator=g, device=dev)
        logits = model(x)
        loss = F.cross_entropy(logits[:, :-1].flatten(0, 1), x[:, 1:].flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if every and (step % every == 0 or step == 1):
            with torch.no_grad():
                history.append((step, *span_losses(model(probe[0]), *probe, span)))
    return history


__all__ = [
    "AttentionOnlyTransformer",
    "repeated_span_batch",
    "span_losses",
    "previous_token_score",
    "induction_targets",
    "induction_score",
    "head_scores",
    "train_repeats",
]
