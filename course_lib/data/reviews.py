"""Short generated movie-review sentences with a sentiment label, built so that a bag of words
cannot classify all of them.

Four kinds of sentence, drawn in the proportions ``mix``:

* ``plain``: "the plot was great", "the acting was really dull". The adjective decides.
* ``negation``: "the plot was not great" (negative), "the acting was not dull" (positive).
  "not" flips the adjective, so its effect depends on which adjective follows it.
* ``contrast``: "the plot was dull but the acting was great". The clause after "but" decides;
  the two clauses have opposite polarities, so the words say nothing about the label.
* ``swap``: "the plot was great , not dull" (positive) and "the plot was dull , not great"
  (negative): the same words in another order give the opposite label.

Every ``contrast`` and ``swap`` sentence has a twin with exactly the same words (the same
multiset) and the other label, equally likely: no function of the bag of words does better than
chance on them. ``negation`` sentences are an exclusive-or of "not" and the adjective's
polarity: a *linear* function of the (length-normalised) word counts, such as a linear layer on
the mean of word embeddings, cannot separate "not good" from "not bad" while it separates
"good" from "bad". All three kinds are flagged ``order_dependent``.

Labels: 1 = positive, 0 = negative. Word ids: ``PAD = 0``, ``UNK = 1``, then the vocabulary.
"""

from typing import NamedTuple

import torch

from ..device import seeded

ASPECTS = ("plot", "acting", "music", "ending", "dialogue", "cast", "pacing", "script")
POSITIVE = ("good", "great", "clever", "moving", "brilliant", "lovely", "superb")
NEGATIVE = ("bad", "dull", "boring", "weak", "awful", "clumsy", "bland")
# adjectives kept out of the vocabulary, for test sentences with words no training set had
UNSEEN_POSITIVE = ("excellent", "wonderful", "fantastic", "charming")
UNSEEN_NEGATIVE = ("terrible", "poor", "dreadful", "tedious")
ADJECTIVES = {"seen": (POSITIVE, NEGATIVE), "unseen": (UNSEEN_POSITIVE, UNSEEN_NEGATIVE)}
INTENSIFIERS = ("really", "very", "quite")
KINDS = ("plain", "negation", "contrast", "swap")
ORDER_DEPENDENT_KINDS = ("negation", "contrast", "swap")
PAD, UNK = 0, 1
SPECIALS = ("<pad>", "<unk>")


def polarity(word: str) -> int:
    """1 for a positive adjective, 0 for a negative one (ValueError otherwise)."""
    if word in POSITIVE + UNSEEN_POSITIVE:
        return 1
    if word in NEGATIVE + UNSEEN_NEGATIVE:
        return 0
    known = POSITIVE + NEGATIVE + UNSEEN_POSITIVE + UNSEEN_NEGATIVE
    raise ValueError(f"{word!r} is not one of the adjectives {known}")


def clause(aspect: str, adjective: str, *, negated: bool = False, intensifier: str = "") -> list:
    """The words of "the <aspect> was [not] [<intensifier>] <adjective>"."""
    words = ["the", aspect, "was"]
    if negated:
        words.append("not")
    if intensifier:
        words.append(intensifier)
    return words + [adjective]


def label_of(words) -> int:
    """The label of a generated sentence, read from its structure (the generator's rules):
    after "but" only the last clause counts; in "X , not Y" the adjective X counts; "not"
    before the adjective flips it."""
    words = list(words)
    if "but" in words:
        words = words[len(words) - 1 - words[::-1].index("but") + 1 :]
    if "," in words:
        i = words.index(",")
        return polarity(words[i - 1])
    adjective = words[-1]
    return 1 - polarity(adjective) if "not" in words else polarity(adjective)


class Reviews(NamedTuple):
    """Generated review sentences.

    ``sentences`` (list of str, words separated by single spaces), ``labels`` (N,) int64 with
    1 = positive, ``kinds`` (N,) int64 indices into ``KINDS``, ``order_dependent`` (N,) bool:
    True where a bag of words cannot decide the label.
    """

    sentences: list
    labels: torch.Tensor
    kinds: torch.Tensor
    order_dependent: torch.Tensor

    def __len__(self):
        return len(self.sentences)

    def subset(self, idx) -> "Reviews":
        idx = torch.as_tensor(idx, dtype=torch.long)
        return Reviews(
            [self.sentences[i] for i in idx.tolist()],
            self.labels[idx],
            self.kinds[idx],
            self.order_dependent[idx],
        )


def _pick(options, g):
    return options[int(torch.randint(len(options), (1,), generator=g))]


def _maybe(p, g) -> bool:
    return bool(torch.rand(1, generator=g) < p)


def _sentence(kind: str, label: int, g, p_intensifier: float, adjectives: str) -> list:
    positive, negative = ADJECTIVES[adjectives]
    good, bad = _pick(positive, g), _pick(negative, g)
    deciding, other = (good, bad) if label == 1 else (bad, good)
    intensifier = _pick(INTENSIFIERS, g) if _maybe(p_intensifier, g) else ""
    aspect = _pick(ASPECTS, g)
    if kind == "plain":
        return clause(aspect, deciding, intensifier=intensifier)
    if kind == "negation":
        return clause(aspect, other, negated=True, intensifier=intensifier)
    if kind == "contrast":
        second = _pick([a for a in ASPECTS if a != aspect], g)
        return [*clause(aspect, other), "but", *clause(second, deciding, intensifier=intensifier)]
    return [*clause(aspect, deciding, intensifier=intensifier), ",", "not", other]  # swap


def make_reviews(
    n: int,
    *,
    mix=(0.4, 0.2, 0.2, 0.2),
    p_intensifier: float = 0.3,
    adjectives: str = "seen",
    seed: int = 0,
) -> Reviews:
    """``n`` review sentences, half positive, with kinds drawn in the proportions ``mix``
    (plain, negation, contrast, swap). ``adjectives="unseen"`` draws the adjectives from
    ``UNSEEN_POSITIVE``/``UNSEEN_NEGATIVE``, words outside ``vocabulary()``. Seeded with
    ``seeded(seed)`` (adds ``COURSE_SEED``)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    mix = torch.as_tensor(mix, dtype=torch.float64)
    if mix.shape != (len(KINDS),) or (mix < 0).any() or not mix.sum() > 0:
        raise ValueError(
            f"mix must be {len(KINDS)} non-negative weights for {KINDS}, not all 0, got "
            f"{mix.tolist()}"
        )
    if not 0 <= p_intensifier <= 1:
        raise ValueError(f"p_intensifier must lie in [0, 1], got {p_intensifier!r}")
    if adjectives not in ADJECTIVES:
        raise ValueError(f"adjectives must be 'seen' or 'unseen', got {adjectives!r}")
    g = torch.Generator().manual_seed(seeded(seed))
    labels = torch.randperm(n, generator=g) % 2  # exactly balanced up to one
    kinds = torch.multinomial(mix / mix.sum(), n, replacement=True, generator=g)
    sentences = [
        " ".join(_sentence(KINDS[k], int(y), g, p_intensifier, adjectives))
        for k, y in zip(kinds.tolist(), labels.tolist(), strict=True)
    ]
    order_dependent = torch.tensor([KINDS[k] in ORDER_DEPENDENT_KINDS for k in kinds.tolist()])
    return Reviews(sentences, labels, kinds, order_dependent)


def vocabulary() -> list:
    """Every word the generator uses, after the two special tokens: position = word id."""
    words = ["the", "was", "not", "but", ",", *INTENSIFIERS, *ASPECTS, *POSITIVE, *NEGATIVE]
    return [*SPECIALS, *words]


def encode_reviews(sentences, vocab=None, *, length: int | None = None):
    """Word ids (N, L) int64, padded with ``PAD`` after the words, and the lengths (N,).

    Unknown words map to ``UNK``. ``L`` is the longest sentence unless ``length`` is given.
    """
    if isinstance(sentences, str):
        raise TypeError("sentences must be a list of strings, got one string")
    vocab = vocabulary() if vocab is None else vocab
    index = {w: i for i, w in enumerate(vocab)}
    rows = [[index.get(w, UNK) for w in s.split()] for s in sentences]
    if not rows or min(len(r) for r in rows) == 0:
        raise ValueError("every sentence needs at least one word")
    longest = max(len(r) for r in rows)
    length = longest if length is None else length
    if longest > length:
        raise ValueError(f"a sentence has {longest} words but length={length}")
    ids = torch.full((len(rows), length), PAD, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
    return ids, torch.tensor([len(r) for r in rows])


__all__ = [
    "ASPECTS",
    "POSITIVE",
    "NEGATIVE",
    "UNSEEN_POSITIVE",
    "UNSEEN_NEGATIVE",
    "INTENSIFIERS",
    "KINDS",
    "ORDER_DEPENDENT_KINDS",
    "PAD",
    "UNK",
    "Reviews",
    "polarity",
    "clause",
    "label_of",
    "make_reviews",
    "vocabulary",
    "encode_reviews",
]
