"""BPE from scratch: the paper's toy merges, the fast version, round trips, and the
`tokenizers` library as the reference."""

import json

import pytest

from course_lib import bpe

SENNRICH = {"low": 5, "lower": 2, "newest": 6, "widest": 3}
SENNRICH_MERGES = [
    ("e", "s"),
    ("es", "t"),
    ("est", "</w>"),
    ("l", "o"),
    ("lo", "w"),
    ("n", "e"),
    ("ne", "w"),
    ("new", "est</w>"),
    ("low", "</w>"),
    ("w", "i"),
]
HUG = {"hug": 10, "pug": 5, "pun": 12, "bun": 4, "hugs": 5}
TEXT = (
    "the quick brown fox jumps over the lazy dog. the dog sleeps; the fox runs away quickly. "
    "lower and lowest, newer and newest, wider and widest: the words share their endings. "
) * 3


def test_sennrich_toy_merges():
    merges, vocab = bpe.learn_bpe_naive(bpe.word_dictionary(SENNRICH), 10)
    assert merges == SENNRICH_MERGES
    assert vocab[("low</w>",)] == 5 and vocab[("newest</w>",)] == 6
    assert vocab[("wi", "d", "est</w>")] == 3


def test_hug_toy_merges_and_counts():
    vocab = bpe.word_dictionary(HUG, end=None)
    assert bpe.pair_counts(vocab)[("u", "g")] == 20
    merges, merged = bpe.learn_bpe_naive(vocab, 3)
    assert merges == [("u", "g"), ("u", "n"), ("h", "ug")]
    assert ("b", "ug") not in merged  # "bug" is not in the dictionary ...
    tok = bpe.BPETokenizer(merges, "bghnpsu", end=None)
    assert tok.segment("bug") == ["b", "ug"]  # ... but is segmented with the learned merges
    assert tok.segment("mug") == ["<unk>", "ug"]


def test_merge_pair_left_to_right():
    vocab = {("a", "a", "a"): 1}
    assert bpe.merge_pair(vocab, ("a", "a")) == {("aa", "a"): 1}
    with pytest.raises(ValueError, match="two symbols"):
        bpe.merge_pair(vocab, ("a",))


def test_wordpiece_score():
    vocab = bpe.word_dictionary(HUG, end=None)
    scores = bpe.wordpiece_scores(vocab)
    assert scores[("g", "s")] == pytest.approx(5 / (20 * 5))
    assert scores[("u", "g")] == pytest.approx(20 / (36 * 20))
    assert bpe.learn_bpe_naive(vocab, 1, criterion="wordpiece")[0] == [("g", "s")]


def test_fast_equals_naive():
    vocab = bpe.word_dictionary(bpe.pretokenize(TEXT))
    naive, v1 = bpe.learn_bpe_naive(vocab, 40)
    fast, v2 = bpe.learn_bpe(vocab, 40, min_count=1)
    assert fast == naive and v1 == v2


def test_round_trip_and_unknown():
    tok = bpe.BPETokenizer.train(TEXT, 30)
    for text in ("the lazy fox runs", "newest widest lowest.", "xyz"):
        assert tok.decode(tok.encode(text)) == text
    assert tok.tokenize("Q") == ["<unk>", "</w>"]
    assert len(tok) == len(set(tok.vocab))


def test_bad_input():
    with pytest.raises(ValueError, match="non-empty"):
        bpe.word_dictionary(["ok", ""])
    with pytest.raises(ValueError, match="criterion"):
        bpe.learn_bpe_naive({}, 1, criterion="unigram")
    with pytest.raises(ValueError, match="non-empty"):
        bpe.BPETokenizer.train("   ", 3)


def test_against_tokenizers_library():
    """Without ties the library's BPE trainer learns the same merges as ours."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    words = [w for w, f in HUG.items() for _ in range(f)]
    hf = Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    hf.train_from_iterator(words, trainers.BpeTrainer(vocab_size=10, show_progress=False))
    theirs = [tuple(m) for m in json.loads(hf.to_str())["model"]["merges"]]
    ours, _ = bpe.learn_bpe_naive(bpe.word_dictionary(HUG, end=None), 3)
    assert theirs == ours
    tok = bpe.BPETokenizer(ours, "bghnpsu", end=None)
    assert hf.encode("hugs").tokens == tok.segment("hugs")
