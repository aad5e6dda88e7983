"""Recurrent networks: cells written from their equations, and a character-level language model.

Cells (weights in PyTorch's layout, so they can be copied from ``nn.RNNCell``/``nn.GRUCell``/
``nn.LSTMCell`` and compared):

* ``rnn_cell``:  h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
* ``gru_cell``:  r = sigma(W_ir x + b_ir + W_hr h + b_hr),
                 z = sigma(W_iz x + b_iz + W_hz h + b_hz),
                 n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h
* ``lstm_cell``: i, f, g, o from W_ih x + b_ih + W_hh h + b_hh (four blocks, in that order);
                 c' = sigma(f) * c + sigma(i) * tanh(g),  h' = sigma(o) * tanh(c')

``rnn_forward``/``rnn_bptt`` unroll the vanilla cell and back-propagate through time by hand.
``CharLM`` is an embedding + GRU/LSTM/RNN + linear next-character model; ``train_char_lm``,
``char_lm_cross_entropy`` and ``sample`` train it, score held-out text and generate text.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from ..device import seeded
from ..validation import check_ids, check_int, check_tensor


# -- cells from the equations ---------------------------------------------------------------------
def _affine(x, W, b):
    """x W^T + b, with b = None meaning no bias (a cell built with bias=False)."""
    return x @ W.T if b is None else x @ W.T + b


def _preactivation(x, h, W_ih, W_hh, b_ih, b_hh):
    """W_ih x + b_ih + W_hh h + b_hh, summed left to right; a None bias is left out."""
    out = _affine(x, W_ih, b_ih) + h @ W_hh.T
    return out if b_hh is None else out + b_hh


def _check_cell(x, h, W_ih, W_hh):
    check_tensor("x", x, ndim=(1, 2), dtype="floating")
    check_tensor("h", h, ndim=(1, 2), dtype="floating")
    if x.shape[-1] != W_ih.shape[1]:
        raise ValueError(
            f"x must have {W_ih.shape[1]} features (W_ih is "
            f"{tuple(W_ih.shape)}), got shape {tuple(x.shape)}"
        )
    if h.shape[-1] != W_hh.shape[1]:
        raise ValueError(
            f"h must have {W_hh.shape[1]} features (W_hh is "
            f"{tuple(W_hh.shape)}), got shape {tuple(h.shape)}"
        )


def rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    """Vanilla (Elman) step h' = tanh(W_ih x + b_ih + W_hh h + b_hh); x (N, D), h (N, H).

    A bias may be None (the parameters of a cell built with bias=False)."""
    _check_cell(x, h, W_ih, W_hh)
    return torch.tanh(_preactivation(x, h, W_ih, W_hh, b_ih, b_hh))


def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    """GRU step in PyTorch's convention (Cho et al. 2014):

    r = sigma(W_ir x + b_ir + W_hr h + b_hr)          reset gate
    z = sigma(W_iz x + b_iz + W_hz h + b_hz)          update gate (z = 1 keeps the old state)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))     candidate state
    h' = (1 - z) * n + z * h

    ``W_ih`` (3H, D) and ``W_hh`` (3H, H) stack the r, z, n blocks, as ``nn.GRUCell`` does.
    A bias may be None (bias=False).
    """
    _check_cell(x, h, W_ih, W_hh)
    gi, gh = _affine(x, W_ih, b_ih), _affine(h, W_hh, b_hh)
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """LSTM step (Hochreiter & Schmidhuber 1997, with a forget gate, no peepholes):

    i = sigma(.), f = sigma(.), g = tanh(.), o = sigma(.)   of W_ih x + b_ih + W_hh h + b_hh
    c' = f * c + i * g          the cell state is updated additively
    h' = o * tanh(c')

    ``state`` is (h, c); returns (h', c'). Blocks are stacked i, f, g, o as in ``nn.LSTMCell``.
    A bias may be None (bias=False).
    """
    h, c = state
    _check_cell(x, h, W_ih, W_hh)
    i, f, g, o = _preactivation(x, h, W_ih, W_hh, b_ih, b_hh).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def cell_params(cell: nn.Module):
    """(W_ih, W_hh, b_ih, b_hh) of an ``nn.RNNCell``/``GRUCell``/``LSTMCell``, for the functions
    above."""
    return cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh


# -- unrolling and back-propagation through time --------------------------------------------------
def rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh):
    """Unroll ``rnn_cell`` over xs (T, N, D) from h0 (N, H); returns all states (T + 1, N, H)."""
    if xs.ndim != 3:
        raise ValueError(f"xs must be (T, N, D), got shape {tuple(xs.shape)}")
    hs = [h0]
    for x in xs:
        hs.append(rnn_cell(x, hs[-1], W_ih, W_hh, b_ih, b_hh))
    return torch.stack(hs)


def rnn_bptt(xs, hs, dhs, W_hh):
    """Back-propagation through time for the vanilla RNN, by hand.

    Given inputs xs (T, N, D), states hs (T + 1, N, H) from ``rnn_forward`` and the loss
    gradients dL/dh_t arriving directly at each state dhs (T, N, H), walk backwards:

        g_t   = dhs_t + W_hh^T a_{t+1}         total gradient reaching h_t
        a_t   = g_t * (1 - h_t^2)              through the tanh
        dW_ih += a_t^T x_t,  dW_hh += a_t^T h_{t-1},  db += sum a_t

    Returns dict with W_ih, W_hh, b (= b_ih = b_hh gradients) and h0.
    """
    T = xs.shape[0]
    dW_ih = torch.zeros(hs.shape[-1], xs.shape[-1], dtype=xs.dtype, device=xs.device)
    dW_hh = torch.zeros_like(W_hh)
    db = torch.zeros(hs.shape[-1], dtype=xs.dtype, device=xs.device)
    carry = torch.zeros_like(hs[0])
    for t in reversed(range(T)):
        a = (dhs[t] + carry) * (1 - hs[t + 1] ** 2)
        dW_ih += a.T @ xs[t]
        dW_hh += a.T @ hs[t]
        db += a.sum(0)
        carry = a @ W_hh
    return {"W_ih": dW_ih, "W_hh": dW_hh, "b": db, "h0": carry}


def gradient_vs_lag(cell: nn.Module, xs, h0=None):
    """||dh_T / dh_0||-style sensitivity: the norm of d(sum h_T)/dx_t for every t, shape (T,).

    Measures how much the last state still depends on the input t steps back; for a vanilla
    RNN it typically shrinks (or grows) geometrically with the lag T - t.
    """
    check_tensor("xs", xs, shape=(None, None, cell.input_size), dtype="floating")
    xs = xs.detach().clone().requires_grad_(True)
    zeros = xs.new_zeros(xs.shape[1], cell.hidden_size)  # xs's dtype and device
    if isinstance(cell, nn.LSTMCell):
        state = (zeros, zeros) if h0 is None else h0
        for x in xs:
            state = cell(x, state)
        out = state[0]
    else:
        h = zeros if h0 is None else h0
        for x in xs:
            h = cell(x, h)
        out = h
    (grad,) = torch.autograd.grad(out.sum(), xs)
    return grad.flatten(1).norm(dim=1)


# -- models ---------------------------------------------------------------------------------------
CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


def _recurrent(cell, input_size, hidden, num_layers):
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {tuple(CELLS)}, got {cell!r}")
    return CELLS[cell](input_size, hidden, num_layers=num_layers, batch_first=True)


def set_forget_bias(lstm: nn.LSTM, value: float = 1.0) -> None:
    """Start an LSTM's forget gates open, sigma(b_f) near 1, so the cell remembers by default
    (Gers et al. 2000; Jozefowicz et al. 2015). PyTorch splits the bias in b_ih + b_hh."""
    H = lstm.hidden_size
    with torch.no_grad():
        for name, p in lstm.named_parameters():
            if name.startswith("bias_ih"):
                p[H : 2 * H] = value
            elif name.startswith("bias_hh"):
                p[H : 2 * H] = 0.0


class SeqClassifier(nn.Module):
    """Many-to-one model: embed tokens, run a recurrent layer, classify from the last state.

    An LSTM starts with forget-gate bias ``forget_bias`` (see ``set_forget_bias``).
    """

    def __init__(
        self,
        vocab_size,
        n_classes,
        *,
        emb_dim=16,
        hidden=32,
        cell="lstm",
        num_layers=1,
        forget_bias: float = 1.0,
    ):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, emb_dim)
        self.rnn = _recurrent(cell, emb_dim, hidden, num_layers)
        if cell == "lstm":
            set_forget_bias(self.rnn, forget_bias)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x):
        out, _ = self.rnn(self.embed(x))
        return self.head(out[:, -1])


class CharLM(nn.Module):
    """Character-level language model: p(x_{t+1} | x_<=t) = softmax(W s_t + b), with s_t the
    state of a recurrent layer that read embed(x_1) .. embed(x_t).

    ``forward(x, state=None)`` maps ids (N, L) to logits (N, L, V) and the final state, so
    long texts can be read in chunks by passing the state on.
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        emb_dim: int = 32,
        hidden: int = 256,
        cell: str = "gru",
        num_layers: int = 1,
        dropout: float = 0.0,
    ):
        super().__init__()
        if vocab_size < 2:
            raise ValueError(f"vocab_size must be >= 2, got {vocab_size}")
        self.vocab_size = vocab_size
        self.embed = nn.Embedding(vocab_size, emb_dim)
        self.rnn = _recurrent(cell, emb_dim, hidden, num_layers)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, x, state=None):
        """``x`` (N, L) integer ids in [0, vocab_size) -> (logits (N, L, V), state)."""
        check_tensor("x", x, ndim=2)
        check_ids("x", x, self.vocab_size)
        out, state = self.rnn(self.embed(x), state)
        return self.head(self.drop(out)), state


def random_windows(ids, n: int, length: int, generator=None):
    """``n`` random windows of ``length + 1`` consecutive ids: inputs (n, length) and the
    next-token targets (n, length), i.e. the same windows shifted by one (teacher forcing).

    Every start s = 0 .. len(ids) - length - 1 is equally likely (the last window ends at the
    last id); a text of exactly length + 1 ids has one window."""
    check_tensor("ids", ids, ndim=1, dtype="integer")
    length = check_int("length", length, min_value=1)
    if len(ids) < length + 1:
        raise ValueError(f"ids must hold at least length + 1 = {length + 1} ids, got {len(ids)}")
    start = torch.randint(0, len(ids) - length, (n,), generator=generator).to(ids.device)
    idx = start[:, None] + torch.arange(length + 1, device=ids.device)
    w = ids[idx]
    return w[:, :-1], w[:, 1:]


def train_char_lm(
    model,
    ids,
    *,
    steps: int = 500,
    batch_size: int = 64,
    seq_len: int = 100,
    lr: float = 3e-3,
    clip_grad: float = 1.0,
    seed: int = 0,
    progress: bool = True,
    eval_ids=None,
    eval_every: int = 0,
) -> dict:
    """Teacher-forced training on random windows of ``ids`` (1-D tensor of character ids).

    Loss: mean cross-entropy -ln p(x_{t+1} | x_<=t) over all positions; Adam with a cosine
    learning-rate decay; gradient norm clipped to ``clip_grad``. With ``eval_ids`` and
    ``eval_every``, records the held-out cross-entropy every ``eval_every`` steps.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    dev = next(model.parameters()).device
    ids = ids.to(dev)
    g = torch.Generator().manual_seed(seeded(seed))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=lr / 20)
    history = {"train_loss": [], "eval_step": [], "eval_loss": []}
    model.train()
    for step in tqdm(range(1, steps + 1), desc="steps", disable=not progress, leave=False):
        x, y = random_windows(ids, batch_size, seq_len, g)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
        opt.step()
        sched.step()
        history["train_loss"].append(loss.item())
        if eval_ids is not None and eval_every and (step % eval_every == 0 or step == steps):
            history["eval_step"].append(step)
            history["eval_loss"].append(char_lm_cross_entropy(model, eval_ids))
            model.train()
    model.eval()
    return history


@torch.no_grad()
def char_lm_cross_entropy(model, ids, *, n_streams: int = 16, chunk: int = 200) -> float:
    """Mean -ln p(x_t | x_<t) in nats over ids[1:], reading the text left to right.

    The text is cut into ``n_streams`` contiguous pieces read in parallel, chunk by chunk,
    carrying the recurrent state, so every prediction sees all earlier text of its piece.
    (The first character of each piece is not predicted.)
    """
    dev = next(model.parameters()).device
    ids = ids.to(dev)
    per = len(ids) // n_streams
    if per < 2:
        raise ValueError(f"text of {len(ids)} ids is too short for {n_streams} streams")
    streams = ids[: per * n_streams].view(n_streams, per)
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    for s in range(0, per - 1, chunk):
        end = min(s + chunk, per - 1)
        x, y = streams[:, s:end], streams[:, s + 1 : end + 1]
        logits, state = model(x, state)
        total += F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum"
        ).item()
        count += y.numel()
    # the tail that did not fill a stream is scored too, after the last stream's state
    tail = ids[per * n_streams - 1 :]
    if len(tail) > 1:
        last_state = None if state is None else _select(state, -1)
        logits, _ = model(tail[None, :-1], last_state)
        total += F.cross_entropy(logits[0], tail[1:], reduction="sum").item()
        count += len(tail) - 1
    model.train(was_training)
    return total / count


def _select(state, i):
    if isinstance(state, tuple):
        return tuple(s[:, i : i + 1 if i != -1 else None].contiguous() for s in state)
    return state[:, i:].contiguous() if i == -1 else state[:, i : i + 1].contiguous()


def softmax_temperature(logits, temperature: float):
    """p_k = exp(z_k / T) / sum_j exp(z_j / T). T -> 0 is argmax, T = 1 the model, T -> inf
    uniform."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return torch.softmax(logits / temperature, dim=-1)


@torch.no_grad()
def sample(model, prefix_ids, length: int, *, temperature: float = 1.0, seed: int = 0):
    """Generate ``length`` ids after ``prefix_ids`` (1-D), each drawn from
    softmax(logits / temperature) and fed back as the next input. Returns a 1-D tensor."""
    if len(prefix_ids) < 1:
        raise ValueError("prefix_ids needs at least one id to condition on")
    dev = next(model.parameters()).device
    g = torch.Generator(device=dev).manual_seed(seeded(seed))
    model.eval()
    logits, state = model(torch.as_tensor(prefix_ids, device=dev)[None], None)
    out = []
    for _ in range(length):
        p = softmax_temperature(logits[0, -1], temperature)
        nxt = torch.multinomial(p, 1, generator=g)
        out.append(nxt)
        logits, state = model(nxt[None], state)
    return torch.cat(out).cpu()


def perplexity(cross_entropy_nats: float) -> float:
    """PP = exp(CE), CE in nats per token."""
    return math.exp(cross_entropy_nats)
