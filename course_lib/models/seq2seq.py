"""A GRU encoder-decoder (Cho et al. 2014; Sutskever et al. 2014) for token sequences.

The encoder reads the source x_1..x_S and keeps its hidden states h_1..h_S. The decoder
generates y_1..y_T one token at a time::

    c_t          = context(s_{t-1}, h_1..h_S)        # fixed: c_t = h_S for every t
    s_t          = GRU([embed(y_{t-1}); c_t], s_{t-1}),   s_0 = h_S
    p(y_t | ...) = softmax(W_out [s_t; c_t] + b)

Attention (chapter 13) only changes ``context``: subclass ``Seq2Seq`` and override
``context(self, query, enc_out, src_mask) -> (c, weights)`` to return a weighted sum of the
encoder states; training (``forward``, ``seq2seq_loss``, ``train_seq2seq``) and decoding
(``greedy``) work unchanged. Usage::

    model = Seq2Seq(vocab_size=13).to(DEVICE)
    history = train_seq2seq(model, pairs, epochs=10)      # pairs: data.sequences.SeqPairs
    tokens = model.greedy(pairs.src, pairs.src_len, max_len=12)
    exact_match(tokens, pairs.tgt[:, 1:])                 # fraction of sequences all right
"""

import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from ..data.sequences import BOS, EOS, PAD, bucket_batches
from ..device import seeded
from ..validation import check_ids, check_tensor


class Seq2Seq(nn.Module):
    """GRU encoder-decoder with a fixed context vector (the last encoder state).

    ``forward(src, src_len, tgt_in)`` returns logits (N, T, vocab_size) under teacher forcing
    (the true previous token is fed at each step); ``greedy`` feeds back its own argmax.
    """

    def __init__(
        self,
        vocab_size: int,
        emb_dim: int = 32,
        hidden: int = 128,
        *,
        pad: int = PAD,
        bos: int = BOS,
        eos: int = EOS,
    ):
        super().__init__()
        if vocab_size < 2 or emb_dim < 1 or hidden < 1:
            raise ValueError(
                f"need vocab_size >= 2, emb_dim >= 1, hidden >= 1; got "
                f"{vocab_size}, {emb_dim}, {hidden}"
            )
        self.vocab_size, self.hidden = vocab_size, hidden
        self.pad, self.bos, self.eos = pad, bos, eos
        self.src_embed = nn.Embedding(vocab_size, emb_dim, padding_idx=pad)
        self.tgt_embed = nn.Embedding(vocab_size, emb_dim, padding_idx=pad)
        self.encoder = nn.GRU(emb_dim, hidden, batch_first=True)
        self.decoder = nn.GRUCell(emb_dim + hidden, hidden)
        self.out = nn.Linear(2 * hidden, vocab_size)

    # -- encoder -------------------------------------------------------------------------------
    def encode(self, src: torch.Tensor, src_len: torch.Tensor):
        """Return encoder states (N, S, H) (zeros at padded steps), the last true state (N, H)
        and the source mask (N, S), True at real tokens."""
        if src.ndim != 2:
            raise ValueError(f"src must be (N, S) token ids, got shape {tuple(src.shape)}")
        if src_len.shape != src.shape[:1]:
            raise ValueError(f"src_len must be ({src.shape[0]},), got {tuple(src_len.shape)}")
        # packing makes the GRU stop at each sequence's true end, so h_S is not read from PAD
        packed = nn.utils.rnn.pack_padded_sequence(
            self.src_embed(src), src_len.cpu(), batch_first=True, enforce_sorted=False
        )
        out, h = self.encoder(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        positions = torch.arange(src.shape[1], device=src.device)
        mask = positions[None, :] < src_len.to(src.device)[:, None]
        return out, h[-1], mask

    def context(self, query, enc_out, src_mask):
        """Context c_t for the decoder step that starts from state ``query`` (N, H).

        Fixed-context model: always the last encoder state, so the whole source must squeeze
        through one H-dimensional vector. Returns (c (N, H), weights or None).
        """
        last = src_mask.sum(dim=1) - 1
        return enc_out[torch.arange(enc_out.shape[0], device=enc_out.device), last], None

    # -- decoder -------------------------------------------------------------------------------
    def decode_step(self, y_prev, state, enc_out, src_mask):
        """One decoder step: previous tokens (N,), state (N, H) -> logits (N, V), new state,
        attention weights (or None)."""
        c, weights = self.context(state, enc_out, src_mask)
        state = self.decoder(torch.cat([self.tgt_embed(y_prev), c], dim=-1), state)
        return self.out(torch.cat([state, c], dim=-1)), state, weights

    def forward(self, src, src_len, tgt_in):
        """Teacher forcing: logits (N, T, V) for every position of ``tgt_in`` (N, T)."""
        check_tensor("src", src, ndim=2)
        check_ids("src", src, self.vocab_size)
        check_tensor("tgt_in", tgt_in, shape=(src.shape[0], None))
        check_ids("tgt_in", tgt_in, self.vocab_size)
        enc_out, last, mask = self.encode(src, src_len)
        state, logits = last, []
        for t in range(tgt_in.shape[1]):
            step, state, _ = self.decode_step(tgt_in[:, t], state, enc_out, mask)
            logits.append(step)
        return torch.stack(logits, dim=1)

    @torch.no_grad()
    def greedy(self, src, src_len, max_len: int, *, return_weights: bool = False):
        """Greedy decoding y_t = argmax p(y | y_<t, x), starting from BOS, for ``max_len`` steps.

        Returns tokens (N, max_len) with everything after the first EOS set to PAD, and with
        ``return_weights`` also the stacked attention weights (N, max_len, S) (None when the
        model has no attention).
        """
        enc_out, last, mask = self.encode(src, src_len)
        state = last
        y = torch.full((src.shape[0],), self.bos, dtype=torch.long, device=src.device)
        done = torch.zeros_like(y, dtype=torch.bool)
        tokens, weights = [], []
        for _ in range(max_len):
            logits, state, w = self.decode_step(y, state, enc_out, mask)
            y = logits.argmax(-1)
            tokens.append(torch.where(done, torch.full_like(y, self.pad), y))
            weights.append(w)
            done |= y == self.eos
        tokens = torch.stack(tokens, dim=1)
        if return_weights:
            w = None if weights[0] is None else torch.stack(weights, dim=1)
            return tokens, w
        return tokens


def seq2seq_loss(logits, tgt_out, pad: int = PAD):
    """Mean cross-entropy -log p(y_t | y_<t, x) over the non-PAD target positions."""
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1), ignore_index=pad
    )


def exact_match(tokens, tgt_out, pad: int = PAD) -> torch.Tensor:
    """Per-sequence correctness (N,) bool: every non-PAD target position predicted right
    (EOS included, so stopping too late or too early counts as wrong)."""
    T = min(tokens.shape[1], tgt_out.shape[1])
    if tgt_out[:, T:].ne(pad).any():
        raise ValueError("tokens are shorter than the targets; decode for more steps")
    ok = (tokens[:, :T] == tgt_out[:, :T]) | (tgt_out[:, :T] == pad)
    return ok.all(dim=1)


def train_seq2seq(
    model,
    pairs,
    *,
    epochs: int = 10,
    lr: float = 3e-3,
    batch_size: int = 128,
    clip_grad: float = 1.0,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Teacher-forced training with Adam on a ``SeqPairs`` set; returns {"train_loss": [...]}.

    Batches are bucketed by source length; the gradient norm is clipped to ``clip_grad``.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    dev = next(model.parameters()).device
    pairs = pairs.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seeded(seed))
    history = {"train_loss": []}
    for _ in tqdm(range(epochs), desc="epochs", disable=not progress, leave=False):
        model.train()
        total, count = 0.0, 0
        for idx in bucket_batches(pairs.src_len, batch_size, generator=g):
            b = pairs[idx.to(dev)]
            S, T = int(b.src_len.max()), int(b.tgt_len.max())
            logits = model(b.src[:, :S], b.src_len, b.tgt[:, : T - 1])
            loss = seq2seq_loss(logits, b.tgt[:, 1:T], model.pad)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
            opt.step()
            total, count = total + loss.item() * len(idx), count + len(idx)
        history["train_loss"].append(total / count)
    model.eval()
    return history
