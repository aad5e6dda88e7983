"""Decoding: turning next-token distributions into text.

A language model gives p(x_t | x_<t) = softmax(z_t). Decoders choose x_t:

* greedy:       x_t = argmax_k z_k
* temperature:  sample from softmax(z / T)
* top-k:        sample from the k most likely tokens, renormalised (Fan et al. 2018)
* top-p:        sample from the smallest set S with sum_{k in S} p_k >= p, renormalised
                (nucleus sampling, Holtzman et al. 2020)
* beam search:  keep the B prefixes with the highest log p(x_1..x_t) at every step

A model is any function ``logits_fn(ids)`` mapping (N, T) ids to (N, T, V) or (N, V) logits
of the next token; ``lm_logits_fn`` builds one from a GPT with a bounded context.
"""

import torch

from .device import seeded
from .validation import check_probability


def _check_logits(logits):
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError("logits must be a floating-point tensor")


def _wide(x):
    """float64 where the device has it (Apple's MPS does not)."""
    return x.float() if x.device.type == "mps" else x.double()


def temperature_logits(logits, temperature: float):
    """z / T.  T < 1 sharpens the distribution, T > 1 flattens it."""
    _check_logits(logits)
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return logits / temperature


def top_k_logits(logits, k: int):
    """Keep the ``k`` largest logits along the last axis, set the others to -inf.
    (Ties at the k-th value are all kept.)"""
    _check_logits(logits)
    V = logits.shape[-1]
    if not isinstance(k, int) or not 1 <= k <= V:
        raise ValueError(f"k must be an int in [1, {V}], got {k!r}")
    kth = logits.topk(k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_logits(logits, p: float):
    """Nucleus filter: keep the smallest set of most likely tokens whose probabilities sum to
    at least ``p``, set the others to -inf.

    Sort p_(1) >= p_(2) >= ...; keep token (i) when the mass strictly before it,
    sum_{j < i} p_(j), is below p (so the most likely token is always kept).
    p = 1 keeps every token. The sums are taken in float64: in float32 the running sum of a
    50,000-token vocabulary reaches 1 before its last token, and the kept set would depend on
    that round-off.
    """
    _check_logits(logits)
    check_probability("p", p, allow_zero=False)
    if p == 1:
        return logits.clone()
    sorted_logits, order = logits.sort(dim=-1, descending=True)
    probs = _wide(sorted_logits).softmax(-1)
    before = probs.cumsum(-1) - probs
    drop_sorted = before >= p
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def filter_logits(logits, *, temperature: float = 1.0, top_k=None, top_p=None):
    """Temperature, then top-k, then top-p (the order Hugging Face ``generate`` uses)."""
    logits = temperature_logits(logits, temperature)
    if top_k is not None:
        logits = top_k_logits(logits, top_k)
    if top_p is not None:
        logits = top_p_logits(logits, top_p)
    return logits


def _next_logits(logits_fn, ids):
    out = logits_fn(ids)
    return out[:, -1] if out.dim() == 3 else out


@torch.no_grad()
def greedy(logits_fn, prompt, n: int):
    """Append ``n`` tokens, each the argmax of the next-token logits. ``prompt`` (T0,) or
    (N, T0); returns the same rank with n more tokens."""
    ids = _as_batch(prompt)
    for _ in range(n):
        nxt = _next_logits(logits_fn, ids).argmax(-1, keepdim=True)
        ids = torch.cat([ids, nxt], dim=1)
    return ids[0] if prompt.dim() == 1 else ids


@torch.no_grad()
def sample(logits_fn, prompt, n: int, *, temperature=1.0, top_k=None, top_p=None, seed=0):
    """Append ``n`` tokens drawn from the filtered distribution (see ``filter_logits``).
    The random draws come from a generator seeded with ``seed`` (on the CPU, so CPU and GPU
    runs draw the same uniform numbers)."""
    ids = _as_batch(prompt)
    g = torch.Generator().manual_seed(seeded(seed))
    for _ in range(n):
        z = filter_logits(
            _next_logits(logits_fn, ids), temperature=temperature, top_k=top_k, top_p=top_p
        )
        nxt = torch.multinomial(z.float().softmax(-1).cpu(), 1, generator=g).to(ids.device)
        ids = torch.cat([ids, nxt], dim=1)
    return ids[0] if prompt.dim() == 1 else ids


@torch.no_grad()
def beam_search(logits_fn, prompt, n: int, *, beam: int = 4, eos=None, length_penalty=0.0):
    """Beam search over ``n`` new tokens after ``prompt`` (1-D).

    Each step extends every kept prefix by every token and keeps the ``beam`` extensions with
    the highest total log-probability sum_t log p(x_t | x_<t). A prefix ending in ``eos`` is
    finished: it is carried on unchanged with its score. The winner maximises
    score / len^length_penalty over the generated length (0 = plain log-probability).
    Returns (ids (T0 + n,) padded with ``eos`` after it finished, score).
    """
    if prompt.dim() != 1:
        raise ValueError(f"prompt must be 1-D, got shape {tuple(prompt.shape)}")
    if not isinstance(beam, int) or beam < 1:
        raise ValueError(f"beam must be a positive int, got {beam!r}")
    seqs = prompt[None]  # (b, T)
    scores = torch.zeros(1, device=prompt.device, dtype=torch.float64)
    done = torch.zeros(1, dtype=torch.bool, device=prompt.device)
    lengths = torch.zeros(1, device=prompt.device)
    for _ in range(n):
        logp = _next_logits(logits_fn, seqs).double().log_softmax(-1)  # (b, V)
        V = logp.shape[-1]
        if eos is not None:
            # a finished prefix can only be followed by eos, at no cost
            frozen = torch.full_like(logp, float("-inf"))
            frozen[:, eos] = 0.0
            logp = torch.where(done[:, None], frozen, logp)
        total = (scores[:, None] + logp).flatten()
        top = total.topk(min(beam, total.numel()))
        keep = top.values > float("-inf")
        rows, toks = top.indices[keep] // V, top.indices[keep] % V
        seqs = torch.cat([seqs[rows], toks[:, None]], dim=1)
        scores = top.values[keep]
        lengths = lengths[rows] + (~done[rows]).float()
        done = done[rows] | (toks == eos) if eos is not None else done[rows]
    final = scores / lengths.clamp(min=1) ** length_penalty
    best = int(final.argmax())
    return seqs[best], float(scores[best])


@torch.no_grad()
def sequence_log_prob(logits_fn, prompt, continuation) -> float:
    """log p(continuation | prompt) = sum_t log p(c_t | prompt, c_<t)."""
    ids = torch.cat([prompt, continuation])[None]
    T0 = len(prompt)
    out = logits_fn(ids[:, :-1])
    if out.dim() == 3:  # logits at every position: one pass
        logp = out[0, T0 - 1 :].double().log_softmax(-1)
        return float(logp.gather(-1, continuation[:, None]).sum())
    total = 0.0  # next-token logits only: one call per prefix
    for t, c in enumerate(continuation.tolist()):
        total += float(_next_logits(logits_fn, ids[:, : T0 + t]).double().log_softmax(-1)[0, c])
    return total


def lm_logits_fn(model, context: int | None = None):
    """``logits_fn`` of a model mapping (N, T) ids to (N, T, V) logits, fed at most the last
    ``context`` tokens (a transformer's window), in eval mode."""
    model.eval()
    context = context or getattr(model, "context", None)

    def fn(ids):
        return model(ids if context is None else ids[:, -context:])

    return fn


def _as_batch(prompt):
    if not isinstance(prompt, torch.Tensor) or prompt.dtype != torch.long:
        raise TypeError("prompt must be an int64 tensor of token ids")
    if prompt.dim() not in (1, 2) or prompt.shape[-1] < 1:
        raise ValueError(f"prompt must be (T0,) or (N, T0) with T0 >= 1, got {tuple(prompt.shape)}")
    return prompt[None] if prompt.dim() == 1 else prompt


__all__ = [
    "temperature_logits",
    "top_k_logits",
    "top_p_logits",
    "filter_logits",
    "greedy",
    "sample",
    "beam_search",
    "sequence_log_prob",
    "lm_logits_fn",
]
