"""The classifiers and MiniLM helpers of chapter 13b (course_lib.textcls)."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import textcls
from course_lib.data.reviews import encode_reviews, make_reviews, vocabulary

V = len(vocabulary())
MODELS = {
    "bag": lambda: textcls.BagOfEmbeddings(V),
    "cnn": lambda: textcls.CNNClassifier(V),
    "gru": lambda: textcls.GRUClassifier(V),
    "transformer": lambda: textcls.TransformerClassifier(V),
}
SENTENCES = [
    "the plot was great , not dull",
    "the plot was dull , not great",
    "the acting was not bad",
    "the music was dull but the cast was great",
]


def _ids(sentences=SENTENCES, length=None):
    return encode_reviews(sentences, length=length)[0]


def _model(name):
    torch.manual_seed(0)
    return MODELS[name]().double().eval()


@pytest.mark.parametrize("name", MODELS)
def test_shapes(name):
    out = _model(name)(_ids())
    assert out.shape == (len(SENTENCES), 2) and out.dtype == torch.float64


@pytest.mark.parametrize("name", MODELS)
def test_padding_does_not_change_the_output(name):
    model = _model(name)
    short, long = model(_ids()), model(_ids(length=20))
    torch.testing.assert_close(short, long, rtol=0, atol=1e-12)
    # each sentence alone (no padding at all) gives its row of the padded batch
    for i, s in enumerate(SENTENCES):
        torch.testing.assert_close(model(_ids([s]))[0], short[i], rtol=0, atol=1e-12)


def test_bag_is_order_invariant_and_equals_embedding_bag():
    model = _model("bag")
    ids = _ids(["the plot was great , not dull", "dull not , great was plot the"])
    out = model(ids)
    torch.testing.assert_close(out[0], out[1], rtol=0, atol=1e-12)
    ref = nn.EmbeddingBag(V, model.emb.embedding_dim, mode="mean").double()
    ref.weight.data.copy_(model.emb.weight.data)
    flat = [row[row != textcls.PAD] for row in _ids()]
    offsets = torch.tensor([0] + [len(r) for r in flat[:-1]]).cumsum(0)
    want = model.head(ref(torch.cat(flat), offsets))
    torch.testing.assert_close(model(_ids()), want)


@pytest.mark.parametrize("name", ["cnn", "gru", "transformer"])
def test_order_aware_models_see_order(name):
    out = _model(name)(_ids(SENTENCES[:2]))  # same words, another order
    assert (out[0] - out[1]).abs().max() > 1e-6


def test_transformer_without_positions_is_order_invariant():
    torch.manual_seed(0)
    model = textcls.TransformerClassifier(V, positions=False).double().eval()
    out = model(_ids(SENTENCES[:2]))
    torch.testing.assert_close(out[0], out[1])


def test_cnn_equals_brute_force_windows():
    model = _model("cnn")
    ids = _ids(SENTENCES[2:3])  # one sentence, no padding
    e = model.emb(ids)[0]  # (T, d)
    T = len(e)
    feats = []
    for conv in model.convs:
        k = conv.kernel_size[0]
        padded = torch.cat(
            [
                torch.zeros(k // 2, e.shape[1], dtype=e.dtype),
                e,
                torch.zeros(k // 2, e.shape[1], dtype=e.dtype),
            ]
        )
        c = torch.stack(
            [
                conv.bias + torch.einsum("fdk,kd->f", conv.weight, padded[t : t + k])
                for t in range(T)
            ]
        )
        feats.append(c.relu().amax(0))
    torch.testing.assert_close(model(ids)[0], model.head(torch.cat(feats)))


def test_gru_equals_packed_sequence_last_state():
    model = _model("gru")
    ids = _ids()
    lengths = (ids != textcls.PAD).sum(1)
    packed = nn.utils.rnn.pack_padded_sequence(
        model.emb(ids), lengths, batch_first=True, enforce_sorted=False
    )
    _, h = model.gru(packed)
    torch.testing.assert_close(model(ids), model.head(h[0]))


def test_masked_mean_matches_a_loop_and_ignores_padding():
    g = torch.Generator().manual_seed(0)
    h = torch.randn(3, 5, 4, generator=g, dtype=torch.float64)
    mask = torch.tensor([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]])
    want = torch.stack([h[i, : int(mask[i].sum())].mean(0) for i in range(3)])
    torch.testing.assert_close(textcls.masked_mean(h, mask), want)
    torch.testing.assert_close(textcls.masked_mean(h, mask.bool()), want)


def test_cosine_and_prototype_predict_match_brute_force():
    g = torch.Generator().manual_seed(1)
    support = torch.randn(12, 6, generator=g, dtype=torch.float64)
    labels = torch.arange(12) % 3
    queries = torch.randn(20, 6, generator=g, dtype=torch.float64)
    protos = torch.stack([F.normalize(support[labels == c], dim=1).mean(0) for c in range(3)])
    want = torch.tensor(
        [
            max(range(3), key=lambda c: F.cosine_similarity(q, protos[c], dim=0).item())
            for q in queries
        ]
    )
    assert torch.equal(textcls.prototype_predict(support, labels, queries), want)
    assert torch.equal(textcls.cosine_predict(queries, protos), want)
    # scaling a query or a support vector changes nothing: cosine similarity
    assert torch.equal(textcls.prototype_predict(support * 3, labels, queries * 0.1), want)


def test_probe_learns_a_separable_task_and_folds_into_one_linear():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(200, 5, generator=g) * torch.tensor([1.0, 5, 0.2, 1, 1]) + 3
    y = (x[:, 0] - 3 > 0).long()
    probe = textcls.train_probe(x, y, steps=300)
    with torch.no_grad():
        assert textcls.accuracy_on(probe(x).argmax(1), y) > 0.95
        torch.testing.assert_close(
            textcls.probe_as_linear(probe)(x), probe(x), rtol=1e-4, atol=1e-4
        )


def test_few_shot_accuracy_is_seeded_and_perfect_on_separated_clusters(monkeypatch):
    monkeypatch.delenv("COURSE_SEED", raising=False)
    g = torch.Generator().manual_seed(3)
    centres = torch.eye(4)[:2] * 10
    labels = torch.arange(40) % 2
    pool = centres[labels] + torch.randn(40, 4, generator=g) * 0.1
    a = textcls.few_shot_accuracy(pool, labels, pool, labels, 2, draws=5, seed=0)
    assert a == 1.0
    noisy = torch.randn(40, 4, generator=g)
    b1 = textcls.few_shot_accuracy(noisy, labels, noisy, labels, 1, draws=5, seed=1)
    b2 = textcls.few_shot_accuracy(noisy, labels, noisy, labels, 1, draws=5, seed=1)
    assert b1 == b2
    with pytest.raises(ValueError, match="k=30"):
        textcls.few_shot_accuracy(pool, labels, pool, labels, 30)


def test_accuracy_on_subsets():
    pred, labels = torch.tensor([1, 0, 1, 1]), torch.tensor([1, 1, 1, 0])
    assert textcls.accuracy_on(pred, labels) == 0.5
    assert textcls.accuracy_on(pred, labels, torch.tensor([True, False, True, False])) == 1.0
    with pytest.raises(ValueError, match="selects no example"):
        textcls.accuracy_on(pred, labels, torch.zeros(4, dtype=torch.bool))


def test_trained_bag_fails_and_cnn_succeeds_on_order(monkeypatch):
    """A small end-to-end run: the chapter's result in miniature."""
    monkeypatch.delenv("COURSE_SEED", raising=False)
    from course_lib import fit

    train, test = (
        make_reviews(600, mix=(0, 0, 0, 1), seed=0),
        make_reviews(200, mix=(0, 0, 0, 1), seed=1),
    )
    X, Xt = _ids(train.sentences, 8), _ids(test.sentences, 8)
    acc = {}
    for name in ("bag", "cnn"):
        torch.manual_seed(0)
        model = MODELS[name]()
        fit(
            model,
            (X, train.labels),
            loss_fn=F.cross_entropy,
            epochs=6,
            lr=3e-3,
            progress=False,
            device="cpu",
        )
        acc[name] = textcls.accuracy_on(textcls.predict(model, Xt), test.labels)
    assert acc["bag"] < 0.65 and acc["cnn"] > 0.95, acc


def test_bad_inputs():
    model = _model("bag")
    with pytest.raises(ValueError, match="2-D"):
        model(torch.tensor([2, 3]))
    with pytest.raises(TypeError, match="integer dtype"):
        model(torch.ones(2, 3))
    with pytest.raises(ValueError, match="at least one word"):
        model(torch.tensor([[0, 0], [2, 3]]))
    with pytest.raises(ValueError, match="max_len=4"):
        textcls.TransformerClassifier(V, max_len=4)(_ids())
    with pytest.raises(ValueError, match="odd positive"):
        textcls.CNNClassifier(V, kernel_sizes=(2,))
    with pytest.raises(ValueError, match="pool must be"):
        textcls.sentence_embedding(torch.zeros(1, 2, 3), torch.ones(1, 2), "max")
    with pytest.raises(ValueError, match="at least one support example"):
        textcls.prototype_predict(torch.randn(2, 3), torch.tensor([0, 0]), torch.randn(1, 3), 2)
