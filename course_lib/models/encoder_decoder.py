"""The full encoder-decoder transformer (Vaswani et al. 2017) for token sequences.

The encoder is a stack of chapter 13's ``TransformerBlock`` (bidirectional self-attention over
the source, padded positions masked out). Each decoder block has three sub-layers::

    H_1 = LN(Y + MHA(Y, Y, Y; causal mask))          # masked self-attention
    H_2 = LN(H_1 + MHA(H_1, Z, Z; source mask))      # cross-attention: keys and values from
    out = LN(H_2 + FFN(H_2))                          # the encoder output Z

Training feeds the whole shifted target at once (teacher forcing in one parallel pass, the
causal mask hides the future); ``greedy`` generates one token at a time. The interface is that of
chapter 12's GRU ``Seq2Seq`` (``forward(src, src_len, tgt_in)``, ``greedy(src, src_len,
max_len)``, ``pad``), so ``train_seq2seq`` and ``exact_match`` work unchanged::

    model = TransformerSeq2Seq(vocab_size=13).to(DEVICE)
    train_transformer_seq2seq(model, pairs, epochs=6)     # or chapter 12's train_seq2seq
    exact_match(model.greedy(pairs.src, pairs.src_len, max_len=16), pairs.tgt[:, 1:])
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..data.sequences import BOS, EOS, PAD, bucket_batches
from ..device import seeded
from ..validation import check_ids, check_int, check_tensor
from .attention import MultiHeadAttention, sinusoidal_encoding
from .seq2seq import seq2seq_loss
from .transformer import TransformerBlock


class DecoderBlock(nn.Module):
    """One decoder block: masked self-attention, cross-attention and a ReLU FFN, each with a
    residual connection and LayerNorm.

    post-LN (``norm_first=False``, the 2017 layout of ``nn.TransformerDecoderLayer``):
        H_1 = LN(Y + MHA(Y, Y, Y; M_causal)),  H_2 = LN(H_1 + MHA(H_1, Z, Z; M_src)),
        out = LN(H_2 + FFN(H_2))
    pre-LN (``norm_first=True``):
        H_1 = Y + MHA(LN(Y); M_causal),  H_2 = H_1 + MHA(LN(H_1), Z, Z; M_src),
        out = H_2 + FFN(LN(H_2))
    with FFN(x) = max(0, x W_1 + b_1) W_2 + b_2. The queries of the cross-attention come from
    the decoder, its keys and values from the encoder output Z (B, S, d_model).
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
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.cross_attn = MultiHeadAttention(d_model, num_heads)
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)
        self.norm_first = norm_first

    def _ffn(self, x):
        return self.linear2(self.drop(F.relu(self.linear1(x))))

    def _cross(self, x, memory, memory_mask):
        return self.cross_attn(x, memory, memory, mask=memory_mask)

    def forward(self, y, memory, memory_mask=None):
        """``y`` (B, T, d_model), ``memory`` (B, S, d_model) -> (B, T, d_model).

        ``memory_mask`` is boolean and broadcasts to the cross-attention scores (B, h, T, S),
        True where the decoder may attend (e.g. ``(B, 1, 1, S)``: the real source tokens).
        """
        check_tensor("memory", memory, shape=(y.shape[0], None, y.shape[-1]))
        if self.norm_first:
            y = y + self.drop(self.self_attn(self.norm1(y), is_causal=True))
            y = y + self.drop(self._cross(self.norm2(y), memory, memory_mask))
            return y + self.drop(self._ffn(self.norm3(y)))
        y = self.norm1(y + self.drop(self.self_attn(y, is_causal=True)))
        y = self.norm2(y + self.drop(self._cross(y, memory, memory_mask)))
        return self.norm3(y + self.drop(self._ffn(y)))

    @torch.no_grad()
    def load_from_torch(self, layer: nn.TransformerDecoderLayer):
        """Copy the weights of a ``nn.TransformerDecoderLayer`` (ReLU, same sizes)."""
        self.self_attn.load_from_torch(layer.self_attn)
        self.cross_attn.load_from_torch(layer.multihead_attn)
        for name in ("linear1", "linear2", "norm1", "norm2", "norm3"):
            getattr(self, name).load_state_dict(getattr(layer, name).state_dict())
        return self


class TransformerSeq2Seq(nn.Module):
    """Encoder-decoder transformer with the interface of chapter 12's ``Seq2Seq``.

    Source and target tokens are embedded, scaled by sqrt(d_model) and added to sinusoidal
    positions:  X = sqrt(d) E_src[x] + PE,  Y = sqrt(d) E_tgt[y] + PE.  The encoder maps X to
    Z = Enc(X) with ``num_layers`` ``TransformerBlock``s; the decoder maps Y and Z to logits
    p(y_t | y_<t, x) = softmax(Dec(Y, Z)_t W_out + b) with ``num_layers`` ``DecoderBlock``s.
    Padded source positions (at and after ``src_len``) are masked out of every attention.
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 64,
        num_heads: int = 4,
        num_layers: int = 2,
        d_ff: int | None = None,
        *,
        max_len: int = 64,
        dropout: float = 0.0,
        norm_first: bool = False,
        pad: int = PAD,
        bos: int = BOS,
        eos: int = EOS,
    ):
        super().__init__()
        vocab_size = check_int("vocab_size", vocab_size, min_value=2)
        num_layers = check_int("num_layers", num_layers, min_value=1)
        self.max_len = check_int("max_len", max_len, min_value=1)
        self.vocab_size, self.d_model = vocab_size, d_model
        self.pad, self.bos, self.eos = pad, bos, eos
        d_ff = d_ff or 4 * d_model
        self.src_embed = nn.Embedding(vocab_size, d_model, padding_idx=pad)
        self.tgt_embed = nn.Embedding(vocab_size, d_model, padding_idx=pad)
        with torch.no_grad():
            for table in (self.src_embed, self.tgt_embed):
                # N(0, 1/d) entries: sqrt(d) * embedding has unit-size entries, as the positions
                nn.init.normal_(table.weight, std=d_model**-0.5)
                table.weight[pad] = 0.0
        self.register_buffer("pos", sinusoidal_encoding(max_len, d_model), persistent=False)
        self.encoder = nn.ModuleList(
            TransformerBlock(d_model, num_heads, d_ff, dropout, norm_first)
            for _ in range(num_layers)
        )
        self.decoder = nn.ModuleList(
            DecoderBlock(d_model, num_heads, d_ff, dropout, norm_first) for _ in range(num_layers)
        )
        # pre-LN leaves the residual stream unnormalised: normalise once at each stack's end
        self.enc_norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()
        self.dec_norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()
        self.out = nn.Linear(d_model, vocab_size)

    def _embed(self, table, ids, name):
        if ids.shape[1] > self.max_len:
            raise ValueError(f"{name} has {ids.shape[1]} positions but max_len={self.max_len}")
        return table(ids) * math.sqrt(self.d_model) + self.pos[: ids.shape[1]]

    def encode(self, src, src_len):
        """Source (N, S) and lengths (N,) -> encoder output Z (N, S, d_model) and the mask
        (N, 1, 1, S), True at real tokens (it broadcasts over heads and queries)."""
        check_tensor("src", src, ndim=2)
        check_ids("src", src, self.vocab_size)
        check_tensor("src_len", src_len, shape=(src.shape[0],), dtype="integer")
        if src_len.numel() and (int(src_len.min()) < 1 or int(src_len.max()) > src.shape[1]):
            raise ValueError(
                f"src_len must lie in [1, {src.shape[1]}] (the source width), got values in "
                f"[{int(src_len.min())}, {int(src_len.max())}]"
            )
        positions = torch.arange(src.shape[1], device=src.device)
        mask = (positions[None, :] < src_len.to(src.device)[:, None])[:, None, None, :]
        z = self._embed(self.src_embed, src, "src")
        for block in self.encoder:
            z = block(z, mask=mask)
        return self.enc_norm(z), mask

    def decode(self, tgt_in, memory, src_mask):
        """Target inputs (N, T), encoder output and mask -> logits (N, T, vocab_size)."""
        check_tensor("tgt_in", tgt_in, shape=(memory.shape[0], None))
        check_ids("tgt_in", tgt_in, self.vocab_size)
        y = self._embed(self.tgt_embed, tgt_in, "tgt_in")
        for block in self.decoder:
            y = block(y, memory, src_mask)
        return self.out(self.dec_norm(y))

    def forward(self, src, src_len, tgt_in):
        """Teacher forcing in one pass: logits (N, T, V) for every position of ``tgt_in``."""
        memory, mask = self.encode(src, src_len)
        return self.decode(tgt_in, memory, mask)

    @torch.no_grad()
    def greedy(self, src, src_len, max_len: int):
        """Greedy decoding y_t = argmax p(y | y_<t, x) from BOS for ``max_len`` steps.

        The source is encoded once; each step re-runs the decoder on the tokens so far.
        Returns tokens (N, max_len) with everything after the first EOS set to PAD.
        """
        max_len = check_int("max_len", max_len, min_value=1)
        if max_len > self.max_len:
            raise ValueError(f"max_len must be at most the model's max_len={self.max_len}")
        memory, mask = self.encode(src, src_len)
        ys = torch.full((src.shape[0], 1), self.bos, dtype=torch.long, device=src.device)
        done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        tokens = []
        for _ in range(max_len):
            y = self.decode(ys, memory, mask)[:, -1].argmax(-1)
            tokens.append(torch.where(done, torch.full_like(y, self.pad), y))
            done |= y == self.eos
            ys = torch.cat([ys, y[:, None]], dim=1)
        return torch.stack(tokens, dim=1)


def warmup_cosine(step: int, total: int, warmup: int) -> float:
    """Learning-rate factor: linear warm-up over ``warmup`` steps, then a cosine decay,
    f(t) = min(1, (t + 1) / warmup) * (1 + cos(pi t / total)) / 2."""
    return min(1.0, (step + 1) / max(warmup, 1)) * 0.5 * (1 + math.cos(math.pi * step / total))


def train_transformer_seq2seq(
    model,
    pairs,
    *,
    epochs: int = 6,
    lr: float = 5e-3,
    batch_size: int = 32,
    warmup: int = 30,
    clip_grad: float = 1.0,
    seed: int = 0,
) -> dict:
    """Teacher-forced training with Adam, as ``train_seq2seq`` (the same length buckets, loss
    and clipping), but with the transformer's warm-up and a decay of the learning rate
    (``warmup_cosine``): a transformer trained at a constant rate ends noisy.

    Returns {"train_loss": [...]} (one mean per epoch).
    """
    epochs = check_int("epochs", epochs, min_value=1)
    dev = next(model.parameters()).device
    pairs = pairs.to(dev)
    total = epochs * math.ceil(len(pairs.src) / batch_size)
    opt = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: warmup_cosine(t, total, warmup))
    g = torch.Generator().manual_seed(seeded(seed))
    history = {"train_loss": []}
    for _ in range(epochs):
        model.train()
        sum_loss, count = 0.0, 0
        for idx in bucket_batches(pairs.src_len, batch_size, generator=g):
            b = pairs[idx.to(dev)]
            S, T = int(b.src_len.max()), int(b.tgt_len.max())
            logits = model(b.src[:, :S], b.src_len, b.tgt[:, : T - 1])
            loss = seq2seq_loss(logits, b.tgt[:, 1:T], model.pad)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
            opt.step()
            sched.step()
            sum_loss, count = sum_loss + loss.item() * len(idx), count + len(idx)
        history["train_loss"].append(sum_loss / count)
    model.eval()
    return history


__all__ = ["DecoderBlock", "TransformerSeq2Seq", "warmup_cosine", "train_transformer_seq2seq"]
