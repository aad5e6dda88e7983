"""Attention masks and pretraining objectives of the three transformer families.

Masks are boolean (T, T) matrices, True where query i may attend to key j (the convention of
``course_lib.models.attention``):

* full (encoder, BERT):            M_ij = 1
* causal (decoder, GPT):           M_ij = [j <= i]
* prefix LM (T5's "causal with prefix"): M_ij = [j <= i or j < P]  (the first P tokens see
  each other in both directions; later tokens see the prefix and their own past)

Objectives: masked-LM corruption with BERT's 80/10/10 rule, and T5's span corruption with
sentinel tokens.
"""

import torch

from .models.attention import causal_mask


def full_mask(T: int, device=None) -> torch.Tensor:
    """All True: every position sees every position (bidirectional encoder)."""
    _check_length(T)
    return torch.ones(T, T, dtype=torch.bool, device=device)


def prefix_mask(T: int, prefix: int, device=None) -> torch.Tensor:
    """M_ij = [j <= i or j < prefix]: bidirectional over the first ``prefix`` tokens, causal
    after. ``prefix = 0`` is the causal mask, ``prefix = T`` the full one."""
    _check_length(T)
    if not 0 <= prefix <= T:
        raise ValueError(f"prefix must lie in [0, T={T}], got {prefix}")
    j = torch.arange(T, device=device)
    return causal_mask(T, device=device) | (j < prefix)[None, :]


def padding_mask(lengths, T: int, device=None) -> torch.Tensor:
    """(B, 1, 1, T) mask hiding the padded keys of sequences of the given ``lengths``;
    combine it with any of the masks above by ``&``."""
    lengths = torch.as_tensor(lengths, device=device)
    if lengths.dim() != 1 or (lengths < 1).any() or (lengths > T).any():
        raise ValueError(f"lengths must be a 1-D list of values in [1, T={T}]")
    keys = torch.arange(T, device=lengths.device)
    return (keys[None, :] < lengths[:, None])[:, None, None, :]


def _check_length(T):
    if not isinstance(T, int) or T < 1:
        raise ValueError(f"T must be a positive int, got {T!r}")


def mlm_corrupt(
    ids: torch.Tensor,
    *,
    mask_id: int,
    vocab_size: int,
    p: float = 0.15,
    special_ids=(),
    generator=None,
):
    """BERT's masked-LM corruption (Devlin et al. 2019).

    Each position that is not a special token is selected with probability ``p``. A selected
    token is replaced by ``mask_id`` with probability 0.8, by a uniformly random token with
    probability 0.1, and kept unchanged with probability 0.1; the loss is computed only at the
    selected positions:  L = -sum_{i selected} log p(x_i | corrupted x).

    Returns ``(inputs, labels)``: labels are the original ids at selected positions and -100
    (ignored by ``F.cross_entropy``) elsewhere.
    """
    if not 0 < p < 1:
        raise ValueError(f"p must lie in (0, 1), got {p}")
    if ids.dtype != torch.long:
        raise TypeError(f"ids must be an int64 tensor, got {ids.dtype}")
    dev = ids.device
    u = torch.rand(ids.shape, generator=generator, device=dev)
    v = torch.rand(ids.shape, generator=generator, device=dev)
    random_tokens = torch.randint(vocab_size, ids.shape, generator=generator, device=dev)
    can = ~torch.isin(ids, torch.as_tensor(list(special_ids), dtype=torch.long, device=dev))
    selected = (u < p) & can
    inputs = torch.where(selected & (v < 0.8), torch.full_like(ids, mask_id), ids)
    inputs = torch.where(selected & (v >= 0.8) & (v < 0.9), random_tokens, inputs)
    labels = torch.where(selected, ids, torch.full_like(ids, -100))
    return inputs, labels


def sentinel(k: int) -> str:
    """T5's k-th sentinel token."""
    return f"<extra_id_{k}>"


def span_corrupt(tokens, noise, *, sentinels=None):
    """T5's span corruption (Raffel et al. 2020): every maximal run of noised tokens is replaced
    in the input by one sentinel; the target lists each sentinel followed by the tokens it
    hides, and ends with one more sentinel.

    ``tokens``: a list; ``noise``: booleans of the same length. ``sentinels(k)`` names the
    k-th sentinel (default ``<extra_id_k>``). Returns ``(inputs, targets)`` as lists.
    """
    tokens, noise = list(tokens), [bool(n) for n in noise]
    if len(tokens) != len(noise):
        raise ValueError(f"noise has {len(noise)} entries for {len(tokens)} tokens")
    name = sentinels or sentinel
    inputs, targets, k = [], [], 0
    for i, (tok, n) in enumerate(zip(tokens, noise, strict=True)):
        if n:
            if i == 0 or not noise[i - 1]:
                inputs.append(name(k))
                targets.append(name(k))
                k += 1
            targets.append(tok)
        else:
            inputs.append(tok)
    targets.append(name(k))
    return inputs, targets


def random_span_noise(n: int, *, density: float = 0.15, mean_span: float = 3.0, generator=None):
    """A boolean noise pattern of length ``n`` with about ``density * n`` noised tokens in runs
    of mean length ``mean_span``: a run starts at each token with probability
    density / mean_span, and its length is geometric with mean ``mean_span``."""
    if not 0 < density < 1 or mean_span < 1:
        raise ValueError(f"need 0 < density < 1 and mean_span >= 1, got {density}, {mean_span}")
    start = torch.rand(n, generator=generator) < density / mean_span
    log_keep = torch.log1p(torch.tensor(-1 / mean_span))  # log(1 - q), q = 1 / mean_span
    noise = torch.zeros(n, dtype=torch.bool)
    u = torch.rand(n, generator=generator)
    for i in torch.nonzero(start).flatten().tolist():
        # P(length = l) = (1 - q)^(l - 1) q, drawn by inverse transform
        length = 1 + int(torch.log(u[i]) / log_keep) if mean_span > 1 else 1
        noise[i : i + length] = True
    return noise


__all__ = [
    "full_mask",
    "causal_mask",
    "prefix_mask",
    "padding_mask",
    "mlm_corrupt",
    "sentinel",
    "span_corrupt",
    "random_span_noise",
]
