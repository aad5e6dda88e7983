import torch
from torch.nn import functional as F

from course_lib.data.text import WordVocab, word_tokenize
from course_lib.embeddings import (
    SkipGramNS,
    analogy,
    cosine_similarity,
    load_minilm_token_embeddings,
    nearest_neighbours,
    skipgram_pair_tensor,
    skipgram_pairs,
)


def test_skipgram_pairs_small_example():
    pairs = skipgram_pairs("a b c d".split(), 2)
    assert pairs[:2] == [("a", "b"), ("a", "c")]
    assert ("b", "d") in pairs and ("a", "d") not in pairs
    assert len(pairs) == 2 + 3 + 3 + 2


def test_pair_tensor_matches_list_without_dynamic_window():
    ids = torch.tensor([5, 1, 4, 2, 3])
    c, o = skipgram_pair_tensor(ids, 2, dynamic=False)
    got = sorted(zip(c.tolist(), o.tolist(), strict=True))
    assert got == sorted(skipgram_pairs(ids.tolist(), 2))


def test_sgns_loss_matches_bce_with_logits():
    torch.manual_seed(0)
    m = SkipGramNS(20, 8)
    torch.nn.init.normal_(m.u.weight)
    c, o, neg = torch.randint(0, 20, (6,)), torch.randint(0, 20, (6,)), torch.randint(0, 20, (6, 3))
    vc = m.v(c)
    pos = (m.u(o) * vc).sum(-1)
    negs = (m.u(neg) * vc[:, None]).sum(-1)
    ref = (
        F.binary_cross_entropy_with_logits(pos, torch.ones(6), reduction="sum")
        + F.binary_cross_entropy_with_logits(negs, torch.zeros(6, 3), reduction="sum")
    ) / 6
    torch.testing.assert_close(m(c, o, neg), ref)


def test_cosine_and_neighbours():
    a, b = torch.randn(4, 7), torch.randn(4, 7)
    torch.testing.assert_close(cosine_similarity(a, b), F.cosine_similarity(a, b, dim=-1))
    E = torch.tensor([[1.0, 0], [0.9, 0.1], [0, 1], [-1, 0]])
    idx, sims = nearest_neighbours(E, 0, 2)
    assert idx == [1, 2] and sims[0] > 0.99
    assert analogy(E, 0, 3, 2, 1)[0] != [0]


def test_word_tokenize_and_vocab():
    toks = word_tokenize("The file_name isn't 42.\n\nThe end.")
    assert toks == ["the", "file_name", "isn't", "42", ".", "<eos>", "the", "end", ".", "<eos>"]
    v = WordVocab(toks, min_count=2)
    assert v.itos[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    assert v.decode(v.encode(["the", "zebra"])) == ["the", "<unk>"]


def test_minilm_embeddings_load_offline():
    E, vocab = load_minilm_token_embeddings()
    assert E.shape == (30522, 384) and vocab[:1] == ["[PAD]"]
    s = {w: i for i, w in enumerate(vocab)}
    cat = E[s["cat"]]
    assert cosine_similarity(cat, E[s["cats"]]) > cosine_similarity(cat, E[s["tax"]])
