"""The review sentences of chapter 13b: determinism, labels by construction, and the flagged
examples really defeat a bag of words."""

from collections import Counter

import pytest
import torch

from course_lib.data.reviews import (
    KINDS,
    NEGATIVE,
    PAD,
    POSITIVE,
    UNK,
    clause,
    encode_reviews,
    label_of,
    make_reviews,
    vocabulary,
)


def test_same_seed_same_sentences_other_seed_other_sentences(monkeypatch):
    monkeypatch.delenv("COURSE_SEED", raising=False)
    a, b, c = make_reviews(200, seed=3), make_reviews(200, seed=3), make_reviews(200, seed=4)
    assert a.sentences == b.sentences and torch.equal(a.labels, b.labels)
    assert torch.equal(a.kinds, b.kinds) and torch.equal(a.order_dependent, b.order_dependent)
    assert a.sentences != c.sentences


def test_course_seed_is_added(monkeypatch):
    monkeypatch.setenv("COURSE_SEED", "2")
    shifted = make_reviews(50, seed=1)
    monkeypatch.setenv("COURSE_SEED", "0")
    assert shifted.sentences == make_reviews(50, seed=3).sentences


def test_shapes_balance_and_flags():
    r = make_reviews(1001, seed=0)
    assert len(r) == len(r.sentences) == 1001
    assert r.labels.dtype == r.kinds.dtype == torch.int64 and r.order_dependent.dtype == torch.bool
    assert abs(int(r.labels.sum()) - 500) <= 1, "labels are balanced up to one"
    assert set(r.kinds.tolist()) == set(range(len(KINDS)))
    assert torch.equal(r.order_dependent, r.kinds != KINDS.index("plain"))
    sub = r.subset([0, 5, 7])
    assert sub.sentences == [r.sentences[i] for i in (0, 5, 7)] and len(sub) == 3


def test_hand_examples_labels():
    assert label_of("the plot was great".split()) == 1
    assert label_of("the acting was really dull".split()) == 0
    assert label_of("the plot was not great".split()) == 0
    assert label_of("the plot was not very dull".split()) == 1
    assert label_of("the plot was dull but the acting was great".split()) == 1
    assert label_of("the plot was great but the acting was dull".split()) == 0
    assert label_of("the plot was great , not dull".split()) == 1
    assert label_of("the plot was dull , not great".split()) == 0
    assert clause("cast", "good", negated=True, intensifier="very") == [
        "the", "cast", "was", "not", "very", "good"
    ]  # fmt: skip


def test_generated_labels_follow_the_rules():
    r = make_reviews(2000, seed=1)
    for s, y in zip(r.sentences, r.labels.tolist(), strict=True):
        assert label_of(s.split()) == y, s


def test_contrast_and_swap_have_twins_with_the_same_words_and_the_other_label():
    r = make_reviews(3000, seed=2)
    by_bag = {}
    for s, y, k in zip(r.sentences, r.labels.tolist(), r.kinds.tolist(), strict=True):
        if KINDS[k] in ("contrast", "swap"):
            by_bag.setdefault(frozenset(Counter(s.split()).items()), set()).add(y)
    ambiguous = sum(len(labels) == 2 for labels in by_bag.values())
    assert ambiguous >= 50, "many bags of words occur with both labels"
    # the construction: swapping the two adjectives keeps the bag and flips the label
    for sentence in (
        "the plot was dull but the cast was really great",
        "the ending was good , not bad",
    ):
        words = sentence.split()
        adj = [i for i, w in enumerate(words) if w in POSITIVE + NEGATIVE]
        twin = list(words)
        twin[adj[0]], twin[adj[1]] = words[adj[1]], words[adj[0]]
        assert Counter(twin) == Counter(words) and label_of(twin) != label_of(words)


def test_negation_defeats_any_linear_function_of_normalised_counts():
    """plain good (+), plain bad (-), not good (-), not bad (+): the differences between the
    positive and the negative bag are opposite in direction, so no w can score both pairs
    right."""
    vocab = vocabulary()

    def bag(words):
        v = torch.zeros(len(vocab), dtype=torch.float64)
        for w in words:
            v[vocab.index(w)] += 1
        return v / len(words)

    d_plain = bag(clause("plot", "good")) - bag(clause("plot", "bad"))
    d_not = bag(clause("plot", "bad", negated=True)) - bag(clause("plot", "good", negated=True))
    cos = torch.nn.functional.cosine_similarity(d_plain, d_not, dim=0)
    assert torch.isclose(cos, torch.tensor(-1.0, dtype=torch.float64))


def test_encode_pads_after_the_words():
    ids, lengths = encode_reviews(["the plot was good", "the plot was not zzz"], length=7)
    assert ids.shape == (2, 7) and lengths.tolist() == [4, 5]
    assert (ids[0, 4:] == PAD).all() and ids[1, 4] == UNK and (ids[:, 0] != PAD).all()
    assert len(set(vocabulary())) == len(vocabulary())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "n must be a positive int"),
        ({"n": 10, "mix": (1, 1)}, "mix must be 4 non-negative weights"),
        ({"n": 10, "mix": (0, 0, 0, 0)}, "not all 0"),
        ({"n": 10, "p_intensifier": 1.5}, r"p_intensifier must lie in \[0, 1\]"),
        ({"n": 10, "seed": -1}, "seed must be a non-negative int"),
        ({"n": 10, "adjectives": "new"}, "adjectives must be 'seen' or 'unseen'"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_reviews(**kwargs)


def test_bad_inputs_to_helpers():
    with pytest.raises(ValueError, match="is not one of the adjectives"):
        label_of("the plot was purple".split())
    with pytest.raises(TypeError, match="list of strings"):
        encode_reviews("the plot was good")
    with pytest.raises(ValueError, match="length=3"):
        encode_reviews(["the plot was good"], length=3)
    with pytest.raises(ValueError, match="at least one word"):
        encode_reviews(["the plot", ""])


def test_unseen_adjectives_are_outside_the_vocabulary():
    r = make_reviews(300, adjectives="unseen", seed=0)
    vocab = set(vocabulary())
    for s, y in zip(r.sentences, r.labels.tolist(), strict=True):
        words = s.split()
        assert label_of(words) == y
        assert any(w not in vocab for w in words)
    ids, _ = encode_reviews(r.sentences)
    assert (ids == UNK).any(1).all()
