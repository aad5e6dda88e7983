"""The word2vec family, GloVe and FastText (course_lib.word_vectors) against brute force."""

import math

import pytest
import torch
from torch.nn import functional as F

from course_lib import word_vectors as wv


def test_cbow_windows_pad_the_ends_and_keep_the_order():
    contexts, centres = wv.cbow_windows(torch.tensor([5, 6, 7, 8]), window=2)
    assert torch.equal(centres, torch.tensor([5, 6, 7, 8]))
    assert contexts.tolist() == [[-1, -1, 6, 7], [-1, 5, 7, 8], [5, 6, 8, -1], [6, 7, -1, -1]]
    with pytest.raises(ValueError, match="window"):
        wv.cbow_windows(torch.tensor([1, 2]), window=0)


def test_cbow_loss_is_negative_sampling_on_the_mean_context_vector():
    torch.manual_seed(0)
    model = wv.CBOWNS(10, 4)
    torch.nn.init.normal_(model.u.weight)
    contexts = torch.tensor([[1, 2, -1, 3]])
    centre, negatives = torch.tensor([4]), torch.tensor([[5, 6]])
    h = model.v.weight[[1, 2, 3]].mean(0)
    u = model.u.weight
    expected = -(F.logsigmoid(u[4] @ h) + F.logsigmoid(-u[5] @ h) + F.logsigmoid(-u[6] @ h))
    torch.testing.assert_close(model(contexts, centre, negatives), expected)


def test_full_softmax_is_cross_entropy_over_the_vocabulary():
    torch.manual_seed(0)
    model = wv.SkipGramSoftmax(7, 3)
    torch.nn.init.normal_(model.u.weight)
    c, o = torch.tensor([0, 3]), torch.tensor([2, 6])
    logits = model.v.weight[c] @ model.u.weight.T
    expected = -torch.log_softmax(logits, -1)[torch.arange(2), o].mean()
    torch.testing.assert_close(model(c, o), expected)


def _brute_huffman_lengths(counts):
    """Code lengths by merging the two lightest subtrees, tracking each subtree's leaves."""
    trees = [(c, [w]) for w, c in enumerate(counts)]
    depth = [0] * len(counts)
    while len(trees) > 1:
        trees.sort(key=lambda t: t[0])
        (c0, a), (c1, b) = trees[0], trees[1]
        for w in a + b:
            depth[w] += 1
        trees = [(c0 + c1, a + b)] + trees[2:]
    return depth


def test_huffman_paths_are_optimal_prefix_codes():
    counts = [45, 13, 12, 16, 9, 5]
    nodes, codes, lengths = wv.huffman_paths(torch.tensor(counts))
    freq = torch.tensor(counts, dtype=torch.double) / sum(counts)
    mean = (freq * lengths).sum().item()
    assert mean == pytest.approx((freq * torch.tensor(_brute_huffman_lengths(counts))).sum().item())
    words = {tuple(codes[w, : lengths[w]].int().tolist()) for w in range(len(counts))}
    assert len(words) == len(counts)  # distinct codes
    for a in words:  # no code is a prefix of another
        assert not any(b != a and b[: len(a)] == a for b in words)
    assert (nodes[torch.arange(nodes.shape[1])[None, :] < lengths[:, None]] < len(counts) - 1).all()
    with pytest.raises(ValueError, match="at least 2"):
        wv.huffman_paths(torch.tensor([3]))


def test_hierarchical_softmax_is_a_distribution_for_any_weights():
    torch.manual_seed(1)
    counts = torch.randint(1, 50, (13,))
    model = wv.SkipGramHS(counts, 5).double()
    torch.nn.init.normal_(model.u.weight)
    torch.nn.init.normal_(model.v.weight)
    for c in range(3):
        p = model.log_prob(torch.full((13,), c), torch.arange(13)).exp()
        assert p.sum().item() == pytest.approx(1.0, abs=1e-12)


def test_fnv1a_and_char_ngrams():
    assert wv.fnv1a("") == 2166136261 and wv.fnv1a("a") == 0xE40C292C
    assert wv.char_ngrams("read", 3, 4) == ["<re", "rea", "ead", "ad>", "<rea", "read", "ead>"]


def test_fasttext_gives_any_word_a_vector_from_its_ngrams():
    model = wv.FastTextNS(["read", "reader", "write"], dim=4, buckets=97)
    v = model.vector("reading")  # never seen
    grams = torch.tensor(model.gram_ids("reading"))
    torch.testing.assert_close(v, model.grams.weight[grams].mean(0).detach())
    assert model.embeddings.shape == (3, 4)
    row = model.centre_vectors(torch.tensor([0]))[0]
    own = torch.cat([model.v.weight[:1], model.grams.weight[torch.tensor(model.gram_ids("read"))]])
    torch.testing.assert_close(row, own.mean(0))


def test_cooccurrence_matches_a_loop():
    ids = torch.tensor([0, 1, 2, 1, 0, 2, 2])
    X = wv.cooccurrence(ids, 3, window=2)
    ref = torch.zeros(3, 3, dtype=torch.double)
    for i in range(len(ids)):
        for j in range(len(ids)):
            if 0 < abs(i - j) <= 2:
                ref[ids[i], ids[j]] += 1.0 / abs(i - j)
    torch.testing.assert_close(X, ref)
    assert torch.equal(X, X.T)


def test_glove_fits_log_counts_of_a_low_rank_matrix():
    torch.manual_seed(0)
    a, b = torch.randn(8, 2), torch.randn(8, 2)
    X = (a @ b.T + 3).exp().double()  # log X has rank 2 plus the biases
    E, history = wv.fit_glove(X, dim=3, x_max=1.0, steps=800, lr=0.05)
    assert E.shape == (8, 3)
    assert history[-1] < 1e-3 * history[0] and all(math.isfinite(h) for h in history)


def test_train_word2vec_lowers_the_loss_for_each_model():
    ids = torch.tensor([0, 1, 2, 3] * 60 + [4, 5] * 30)
    counts = torch.bincount(ids)
    for model, cbow in [
        (wv.CBOWNS(6, 8), True),
        (wv.SkipGramSoftmax(6, 8), False),
        (wv.SkipGramHS(counts, 8), False),
        (wv.FastTextNS([str(i) * 3 for i in range(6)], 8, buckets=50), False),
    ]:
        history = wv.train_word2vec(
            model,
            ids,
            counts,
            cbow=cbow,
            window=2,
            negatives=2,
            epochs=4,
            batch_size=64,
            lr=0.05,
            t=1.0,
        )
        assert history[-1] < history[0], type(model).__name__
