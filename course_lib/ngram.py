"""Count-based n-gram language models, with smoothing and backoff, and perplexity.

An n-gram model makes the Markov assumption p(x_t | x_<t) = p(x_t | h) with the history
h = x_{t-n+1} .. x_{t-1}, and estimates it from counts c(.) of the training tokens.

* ``method="add_k"`` (Laplace for k = 1): p(w | h) = (c(h, w) + k) / (c(h) + k V).
* ``method="witten_bell"`` (interpolated Witten-Bell): with T(h) the number of distinct
  tokens ever seen after h,

      p(w | h) = (c(h, w) + T(h) p(w | h')) / (c(h) + T(h)),

  where h' drops the oldest token of h, and the recursion ends at the uniform 1/V. A history
  never seen (c(h) = 0) backs off entirely to the shorter one. Every distribution sums to 1.

Tokens are integer ids in [0, V); the first n-1 tokens of a text use the shorter histories
that exist. Perplexity PP = exp(-(1/N) sum_t log p(x_t | h_t)) over the N predicted tokens.
"""

import math
from collections import Counter, defaultdict

import numpy as np

from .device import seeded
from .validation import check_int

METHODS = ("witten_bell", "add_k")


class NGramLM:
    """n-gram language model over ids in [0, vocab_size); ``fit`` it, then ``perplexity``,
    ``prob``, ``distribution`` or ``generate``."""

    def __init__(self, n: int, vocab_size: int, *, method: str = "witten_bell", k: float = 1.0):
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be an int >= 1, got {n!r}")
        if vocab_size < 1:
            raise ValueError(f"vocab_size must be >= 1, got {vocab_size}")
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if k <= 0:
            raise ValueError(f"k must be > 0, got {k}")
        self.n, self.V, self.method, self.k = n, vocab_size, method, k
        self.counts = None

    def fit(self, ids) -> "NGramLM":
        """Count every m-gram, m = 1..n: ``counts[m-1][history][token]``."""
        ids = _as_list(ids, self.V)
        self.counts = []
        for m in range(1, self.n + 1):
            grams = Counter(zip(*(ids[i:] for i in range(m)), strict=False))
            table = defaultdict(Counter)
            for gram, c in grams.items():
                table[gram[:-1]][gram[-1]] = c
            # the totals c(h) and distinct-follower counts T(h) are reused at every query
            self.counts.append({h: (nxt, sum(nxt.values()), len(nxt)) for h, nxt in table.items()})
        return self

    def _check_fitted(self):
        if self.counts is None:
            raise RuntimeError("call fit(ids) before using the model")

    def prob(self, token: int, history=()) -> float:
        """p(token | history); only the last n-1 ids of ``history`` matter."""
        self._check_fitted()
        token = check_int("token", token)
        if not 0 <= token < self.V:
            raise ValueError(f"token must lie in [0, {self.V}), got {token}")
        history = tuple(_as_list(history, self.V))[-(self.n - 1) :] if self.n > 1 else ()
        if self.method == "add_k":
            nxt, total, _ = self.counts[len(history)].get(history, (None, 0, 0))
            c = nxt[token] if nxt is not None else 0
            return (c + self.k) / (total + self.k * self.V)
        p = 1.0 / self.V
        for m in range(len(history) + 1):  # shortest history first, then longer ones
            h = history[len(history) - m :]
            entry = self.counts[m].get(h)
            if entry is None:
                break  # a longer history containing h was never seen either
            nxt, total, distinct = entry
            p = (nxt[token] + distinct * p) / (total + distinct)
        return p

    def distribution(self, history=()) -> np.ndarray:
        """The whole next-token distribution p(. | history) as a length-V array."""
        self._check_fitted()
        history = tuple(_as_list(history, self.V))[-(self.n - 1) :] if self.n > 1 else ()
        if self.method == "add_k":
            nxt, total, _ = self.counts[len(history)].get(history, ({}, 0, 0))
            p = np.full(self.V, self.k / (total + self.k * self.V))
            for w, c in nxt.items():
                p[w] += c / (total + self.k * self.V)
            return p
        p = np.full(self.V, 1.0 / self.V)
        for m in range(len(history) + 1):
            entry = self.counts[m].get(history[len(history) - m :])
            if entry is None:
                break
            nxt, total, distinct = entry
            p = p * distinct
            for w, c in nxt.items():
                p[w] += c
            p /= total + distinct
        return p

    def log_likelihood(self, ids) -> float:
        """Sum over t of ln p(x_t | h_t) for every token of ``ids``."""
        ids = _as_list(ids, self.V)
        return sum(
            math.log(self.prob(w, ids[max(0, t - self.n + 1) : t])) for t, w in enumerate(ids)
        )

    def cross_entropy(self, ids) -> float:
        """Mean negative log-likelihood per token, in nats."""
        ids = _as_list(ids, self.V)
        if not ids:
            raise ValueError("ids is empty")
        return -self.log_likelihood(ids) / len(ids)

    def perplexity(self, ids) -> float:
        """PP = exp(cross-entropy): the effective number of equally likely next tokens."""
        return math.exp(self.cross_entropy(ids))

    def generate(self, length: int, *, prefix=(), temperature: float = 1.0, seed: int = 0) -> list:
        """Sample ``length`` new ids after ``prefix``, each from p(. | last n-1 ids)^(1/T)."""
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        rng = np.random.default_rng(seeded(seed))
        out = list(prefix)
        for _ in range(length):
            p = self.distribution(out) ** (1.0 / temperature)
            out.append(int(rng.choice(self.V, p=p / p.sum())))
        return out[len(prefix) :]


def _as_list(ids, V):
    ids = [int(i) for i in ids]  # also accepts a tensor or array of ids
    if ids and (min(ids) < 0 or max(ids) >= V):
        raise ValueError(f"ids must lie in [0, {V}), got values in [{min(ids)}, {max(ids)}]")
    return ids
