"""Byte-pair encoding (BPE) from scratch, and the WordPiece merge score.

BPE (Sennrich et al. 2016) starts from single characters and repeatedly merges the most frequent
pair of adjacent symbols, counted over a dictionary of words with their frequencies:

    (a, b)* = argmax_{(a, b)} count(a b),   count(a b) = sum_w freq(w) * #{a b adjacent in w}

Each word is split into characters followed by an end-of-word marker ``</w>``, so that a
symbol at the end of a word ("est</w>") differs from the same letters inside one ("est").
WordPiece (Schuster and Nakajima 2012; BERT) merges instead the pair with the largest

    score(a, b) = count(a b) / (count(a) count(b)),

the gain in unigram log-likelihood up to constants: frequent pairs of *rare* symbols win.

A merge never builds the marker out of ordinary characters: a pair whose merged string
contains ``</w>`` anywhere but as its real suffix is skipped (see ``joinable``). So a symbol
ends with ``</w>`` exactly when it ends a word, and text that itself contains "</w>" still
decodes to itself.

Ties are broken by the pair that occurs first in the dictionary (words in insertion order,
pairs left to right), which is what the reference Python code of Sennrich et al. does on a
Python 3.7+ dict; this makes every result reproducible.
"""

import re
from collections import Counter, defaultdict

from .validation import check_int

END = "</w>"


def joinable(pair: tuple, end: str | None = END) -> bool:
    """May ``pair`` = (a, b) be merged? Not when a + b contains the end-of-word marker other
    than as the suffix it gets from b (which must then end the word)."""
    a, b = pair
    if not end:
        return True
    at = (a + b).find(end)
    return at == -1 or (b.endswith(end) and at == len(a + b) - len(end))


# -- the naive algorithm, as in the paper ------------------------------------------------------
def word_dictionary(words, *, end: str | None = END) -> dict[tuple, int]:
    """{symbols of a word: frequency}: each word becomes a tuple of its characters, followed by
    ``end`` (unless None). ``words`` is an iterable of words or a {word: frequency} mapping.
    Insertion order = order of first appearance."""
    counts = Counter()
    items = words.items() if isinstance(words, dict) else ((w, 1) for w in words)
    for word, freq in items:
        if not isinstance(word, str) or not word:
            raise ValueError(f"words must be non-empty strings, got {word!r}")
        if freq < 1:
            raise ValueError(f"frequencies must be >= 1, got {freq} for {word!r}")
        counts[tuple(word) + ((end,) if end else ())] += freq
    return dict(counts)


def pair_counts(vocab: dict[tuple, int]) -> dict[tuple, int]:
    """count(a b) for every adjacent pair, in order of first occurrence."""
    counts = {}
    for symbols, freq in vocab.items():
        for pair in zip(symbols, symbols[1:], strict=False):
            counts[pair] = counts.get(pair, 0) + freq
    return counts


def merge_pair(vocab: dict[tuple, int], pair: tuple) -> dict[tuple, int]:
    """Replace every adjacent occurrence of ``pair`` (left to right, non-overlapping) by the
    merged symbol a+b in every word of ``vocab``; returns a new dictionary."""
    if len(pair) != 2:
        raise ValueError(f"pair must have two symbols, got {pair!r}")
    a, b = pair
    out = {}
    for symbols, freq in vocab.items():
        merged, i = [], 0
        while i < len(symbols):
            if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
                merged.append(a + b)
                i += 2
            else:
                merged.append(symbols[i])
                i += 1
        key = tuple(merged)
        out[key] = out.get(key, 0) + freq
    return out


def symbol_counts(vocab: dict[tuple, int]) -> dict[str, int]:
    """count(a): occurrences of each symbol, weighted by word frequency."""
    counts = {}
    for symbols, freq in vocab.items():
        for s in symbols:
            counts[s] = counts.get(s, 0) + freq
    return counts


def wordpiece_scores(vocab: dict[tuple, int]) -> dict[tuple, float]:
    """score(a, b) = count(a b) / (count(a) count(b)) for every adjacent pair."""
    single = symbol_counts(vocab)
    return {(a, b): c / (single[a] * single[b]) for (a, b), c in pair_counts(vocab).items()}


def learn_bpe_naive(
    vocab: dict[tuple, int], num_merges: int, *, criterion: str = "bpe", end: str | None = END
):
    """The textbook loop: recount all pairs, merge the best one, ``num_merges`` times.

    ``criterion`` is ``"bpe"`` (highest count) or ``"wordpiece"`` (highest
    count(ab)/(count(a)count(b))). Stops early when no pair is left. Pairs that would forge
    the marker ``end`` are skipped (``joinable``). Returns (merges, vocab).
    Cost O(merges x corpus); ``learn_bpe`` gives the same merges much faster.
    """
    if criterion not in ("bpe", "wordpiece"):
        raise ValueError(f"criterion must be 'bpe' or 'wordpiece', got {criterion!r}")
    check_int("num_merges", num_merges, min_value=0)
    merges = []
    for _ in range(num_merges):
        scores = pair_counts(vocab) if criterion == "bpe" else wordpiece_scores(vocab)
        scores = {p: v for p, v in scores.items() if joinable(p, end)}
        if not scores:
            break
        best = max(scores, key=scores.get)  # the first maximum in insertion order
        merges.append(best)
        vocab = merge_pair(vocab, best)
    return merges, vocab


# -- the same algorithm with incremental pair counts -------------------------------------------
def learn_bpe(
    vocab: dict[tuple, int], num_merges: int, *, min_count: int = 2, end: str | None = END
):
    """BPE merges, identical to ``learn_bpe_naive(..., criterion="bpe")`` (same tie-breaking,
    same skipped pairs), but after each merge only the words containing the merged pair are
    recounted.

    Stops when the best pair occurs fewer than ``min_count`` times. Returns (merges, vocab).
    """
    check_int("num_merges", num_merges, min_value=0)
    words = [list(s) for s in vocab]
    freqs = list(vocab.values())
    counts = defaultdict(int)
    where = defaultdict(set)  # pair -> indices of the words that contain it
    for i, w in enumerate(words):
        for pair in zip(w, w[1:], strict=False):
            counts[pair] += freqs[i]
            where[pair].add(i)

    def first_occurrence(pair):
        i = min(where[pair])
        w = words[i]
        return i, next(k for k in range(len(w) - 1) if (w[k], w[k + 1]) == pair)

    merges = []
    for _ in range(num_merges):
        allowed = {p: c for p, c in counts.items() if joinable(p, end)}
        if not allowed:
            break
        top = max(allowed.values())
        if top < min_count:
            break
        tied = [p for p, c in allowed.items() if c == top]
        best = min(tied, key=first_occurrence) if len(tied) > 1 else tied[0]
        merges.append(best)
        a, b = best
        for i in sorted(where[best]):
            w, f = words[i], freqs[i]
            for pair in zip(w, w[1:], strict=False):  # forget the old pairs of this word
                counts[pair] -= f
                if counts[pair] == 0:
                    del counts[pair]
                where[pair].discard(i)
            merged, k = [], 0
            while k < len(w):
                if k + 1 < len(w) and w[k] == a and w[k + 1] == b:
                    merged.append(a + b)
                    k += 2
                else:
                    merged.append(w[k])
                    k += 1
            words[i] = merged
            for pair in zip(merged, merged[1:], strict=False):
                counts[pair] += f
                where[pair].add(i)
        where.pop(best, None)
    out = {}
    for w, f in zip(words, freqs, strict=True):
        out[tuple(w)] = out.get(tuple(w), 0) + f
    return merges, out


# -- a tokenizer ---------------------------------------------------------------------------------
class BPETokenizer:
    """Learned merges applied to new text.

    Text is split on whitespace into words (so runs of whitespace become single spaces); each
    word is segmented by repeatedly merging its adjacent pair that was learned earliest (as
    GPT-2's tokenizer does). Characters never seen in training become ``<unk>``.
    """

    unk = "<unk>"

    def __init__(self, merges, alphabet, *, end: str | None = END):
        self.merges = [tuple(m) for m in merges]
        self.rank = {}
        for r, m in enumerate(self.merges):
            self.rank.setdefault(m, r)
        self.end = end
        base = sorted(set(alphabet)) + ([end] if end else [])
        self.vocab = [self.unk] + base + [a + b for a, b in self.merges]
        self.vocab = list(dict.fromkeys(self.vocab))
        self.ids = {t: i for i, t in enumerate(self.vocab)}
        self._cache = {}

    @classmethod
    def train(cls, text: str, num_merges: int, *, end: str | None = END, min_count: int = 2):
        """Learn ``num_merges`` merges from the words of ``text``."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("text must be a non-empty string")
        vocab = word_dictionary(pretokenize(text), end=end)
        merges, _ = learn_bpe(vocab, num_merges, min_count=min_count, end=end)
        return cls(merges, set(text) - set(" \t\n\r"), end=end)

    def __len__(self) -> int:
        return len(self.vocab)

    def segment(self, word: str) -> list[str]:
        """Symbols of one word: repeatedly merge the adjacent pair with the lowest rank."""
        if word in self._cache:
            return self._cache[word]
        symbols = [c if c in self.ids else self.unk for c in word]
        symbols += [self.end] if self.end else []
        while len(symbols) > 1:
            never = len(self.merges)
            r, k = min(
                (self.rank.get(p, never), k)
                for k, p in enumerate(zip(symbols, symbols[1:], strict=False))
            )
            if r == never:
                break
            symbols[k : k + 2] = [symbols[k] + symbols[k + 1]]
        self._cache[word] = symbols
        return symbols

    def tokenize(self, text: str) -> list[str]:
        return [s for word in pretokenize(text) for s in self.segment(word)]

    def encode(self, text: str) -> list[int]:
        return [self.ids[t] for t in self.tokenize(text)]

    def decode(self, ids) -> str:
        """Join the symbols; a symbol's end-of-word suffix becomes a space. (Only the suffix:
        "</w>" typed inside the text is ordinary characters.)"""
        ids = [int(i) for i in ids]
        bad = [i for i in ids if not 0 <= i < len(self.vocab)]
        if bad:
            raise ValueError(f"ids must lie in [0, {len(self.vocab)}), got {bad[:5]}")
        symbols = [self.vocab[i] for i in ids]
        if not self.end:
            return "".join(symbols)
        n = len(self.end)
        return "".join(s[:-n] + " " if s.endswith(self.end) else s for s in symbols).rstrip(" ")


def pretokenize(text: str) -> list[str]:
    """Words = maximal runs of non-whitespace characters."""
    return re.findall(r"\S+", text)


__all__ = [
    "END",
    "word_dictionary",
    "pair_counts",
    "merge_pair",
    "symbol_counts",
    "wordpiece_scores",
    "learn_bpe_naive",
    "learn_bpe",
    "joinable",
    "BPETokenizer",
    "pretokenize",
]
