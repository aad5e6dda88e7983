"""Toy sequence tasks, padding and length bucketing for recurrent models.

Token ids of the digit tasks: ``PAD = 0``, ``BOS = 1`` (begin of sequence), ``EOS = 2`` (end of
sequence), then the symbols ``3 .. 3 + n_symbols - 1`` (digit d is token ``d + 3``)::

    pairs = digit_task(1000, task="reverse", min_len=2, max_len=8)
    pairs.src[0]      # e.g. [7, 4, 9, 0, 0, 0, 0, 0]        (the digits 4 1 6, padded)
    pairs.tgt[0]      # e.g. [1, 9, 4, 7, 2, 0, 0, 0, 0, 0]  (BOS 6 1 4 EOS, padded)

A decoder trained with teacher forcing reads ``pairs.tgt[:, :-1]`` and predicts
``pairs.tgt[:, 1:]``; ``PAD`` positions are ignored by the loss.
"""

from typing import NamedTuple

import torch

from ..device import seeded

PAD, BOS, EOS = 0, 1, 2
N_SPECIAL = 3
TASKS = ("reverse", "copy", "sort")


class SeqPairs(NamedTuple):
    """Padded source/target pairs of a sequence-to-sequence task.

    ``src`` (N, S) source tokens, ``src_len`` (N,) true source lengths, ``tgt`` (N, T) target
    tokens ``BOS y_1 .. y_m EOS PAD ..``, ``tgt_len`` (N,) lengths including BOS and EOS.
    """

    src: torch.Tensor
    src_len: torch.Tensor
    tgt: torch.Tensor
    tgt_len: torch.Tensor

    def to(self, device) -> "SeqPairs":
        return SeqPairs(*(t.to(device) for t in self))

    def __getitem__(self, idx):  # integer-indexing a NamedTuple gives a field, keep that
        if isinstance(idx, int):
            return tuple.__getitem__(self, idx)
        return SeqPairs(*(t[idx] for t in self))


def pad_sequences(seqs, *, pad: int = PAD, length: int | None = None) -> torch.Tensor:
    """Stack lists/1-D tensors of ids into an int64 tensor (N, L), filling with ``pad``.

    ``L`` is the longest sequence unless ``length`` is given (longer sequences raise).
    """
    seqs = [torch.as_tensor(s, dtype=torch.long) for s in seqs]
    if not seqs:
        raise ValueError("pad_sequences needs at least one sequence")
    if any(s.ndim != 1 for s in seqs):
        raise ValueError("every sequence must be 1-D")
    longest = max(len(s) for s in seqs)
    length = longest if length is None else length
    if longest > length:
        raise ValueError(f"a sequence has {longest} tokens but length={length}")
    out = torch.full((len(seqs), length), pad, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s
    return out


def bucket_batches(lengths, batch_size: int, *, shuffle: bool = True, generator=None):
    """Yield index tensors of mini-batches whose members have similar lengths.

    Sorting by length before cutting batches means little padding per batch (less wasted
    compute); the order of the batches is shuffled so that training still sees a mix.
    """
    lengths = torch.as_tensor(lengths)
    if lengths.ndim != 1:
        raise ValueError(f"lengths must be 1-D, got shape {tuple(lengths.shape)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    n = len(lengths)
    # a random tie-break keeps batches of equal-length sequences different between epochs
    noise = torch.rand(n, generator=generator) if shuffle else torch.zeros(n)
    order = torch.argsort(lengths.cpu().double() + 0.5 * noise, stable=True)
    chunks = list(torch.split(order, batch_size))
    if shuffle:
        perm = torch.randperm(len(chunks), generator=generator).tolist()
        chunks = [chunks[i] for i in perm]
    yield from chunks


def digit_task(
    n: int,
    *,
    task: str = "reverse",
    min_len: int = 1,
    max_len: int = 10,
    n_symbols: int = 10,
    seed: int = 0,
) -> SeqPairs:
    """``n`` random digit strings of length uniform in [min_len, max_len] and their targets.

    ``task``: ``"reverse"`` (y = x read backwards), ``"copy"`` (y = x) or ``"sort"``
    (y = x sorted). Source width is ``max_len``, target width ``max_len + 2`` (BOS, EOS).
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    if not 1 <= min_len <= max_len:
        raise ValueError(f"need 1 <= min_len <= max_len, got min_len={min_len}, max_len={max_len}")
    if n < 1 or n_symbols < 2:
        raise ValueError(f"need n >= 1 and n_symbols >= 2, got n={n}, n_symbols={n_symbols}")
    g = torch.Generator().manual_seed(seeded(seed))
    src_len = torch.randint(min_len, max_len + 1, (n,), generator=g)
    sym = torch.randint(0, n_symbols, (n, max_len), generator=g) + N_SPECIAL
    pos = torch.arange(max_len)
    src = torch.where(pos < src_len[:, None], sym, torch.full_like(sym, PAD))
    if task == "copy":
        body = src.clone()
    elif task == "reverse":
        # position j of the answer is source position len - 1 - j
        idx = (src_len[:, None] - 1 - pos).clamp(min=0)
        body = torch.where(pos < src_len[:, None], src.gather(1, idx), torch.full_like(src, PAD))
    else:
        big = torch.where(src == PAD, torch.full_like(src, 10**6), src)
        body = big.sort(dim=1).values
        body = torch.where(body == 10**6, torch.full_like(body, PAD), body)
    tgt = torch.full((n, max_len + 2), PAD, dtype=torch.long)
    tgt[:, 0] = BOS
    tgt[:, 1 : max_len + 1] = body
    tgt[torch.arange(n), src_len + 1] = EOS
    return SeqPairs(src, src_len, tgt, src_len + 2)


def tokens_to_str(ids) -> str:
    """Readable form of digit-task tokens: digits as characters, ``<``/``>`` for BOS/EOS, PAD
    dropped (``[1, 5, 3, 2] -> '<20>'``)."""
    names = {BOS: "<", EOS: ">", PAD: ""}
    out = []
    for i in ids:
        i = int(i)
        out.append(names[i] if i in names else str(i - N_SPECIAL))
    return "".join(out)


def lag_task(n: int, lag: int, *, n_classes: int = 4, n_noise: int = 4, seed: int = 0):
    """Long-lag recall: the label is the first token; ``lag`` distractor tokens follow it.

    Returns ``(X, y)``: X (n, lag + 1) int64 with the signal token in ``[0, n_classes)`` at
    position 0 and noise tokens in ``[n_classes, n_classes + n_noise)`` after it; y (n,) the
    signal. A model must carry one symbol across ``lag`` steps; chance accuracy is
    ``1 / n_classes``.
    """
    if lag < 0 or n < 1:
        raise ValueError(f"need lag >= 0 and n >= 1, got lag={lag}, n={n}")
    g = torch.Generator().manual_seed(seeded(seed))
    y = torch.randint(0, n_classes, (n,), generator=g)
    noise = torch.randint(n_classes, n_classes + n_noise, (n, lag), generator=g)
    return torch.cat([y[:, None], noise], dim=1), y
