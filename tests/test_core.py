"""Unit tests of course_lib's core: device, seeding, data, training loop, metrics, plots."""

import matplotlib

matplotlib.use("Agg")

import pytest
import torch
from sklearn import metrics as sk

from course_lib import device, evaluate, fit, set_seed
from course_lib.data import batches, load_corpus, load_digits, toy_2d, train_val_test_split
from course_lib.data.text import char_vocab, decode, encode, split_text
from course_lib.metrics import accuracy, confusion_matrix, precision_recall_f1
from course_lib.plot import image_grid, plot_decision_boundary, plot_history


def test_device_respects_override(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert device() == torch.device("cpu")
    monkeypatch.delenv("COURSE_DEVICE")
    assert device().type in {"cpu", "cuda", "mps"}


def test_set_seed_repeats_and_rejects_bad_seed():
    set_seed(3)
    a = torch.randn(4)
    set_seed(3)
    assert torch.equal(a, torch.randn(4))
    with pytest.raises(ValueError, match="seed"):
        set_seed(-1)


def test_digits_split_sizes_and_range():
    train, val, test = load_digits()
    assert len(train.X) + len(val.X) + len(test.X) == 1797
    assert train.X.shape[1] == 64 and 0 <= train.X.min() and train.X.max() <= 1
    images = load_digits(images=True)[0].X
    assert images.shape[1:] == (1, 8, 8)
    # the split is fixed by the seed
    assert torch.equal(load_digits()[2].y, test.y)


def test_split_rejects_bad_fractions_and_mismatched_rows():
    X, y = torch.zeros(10, 2), torch.zeros(10)
    with pytest.raises(ValueError, match="val"):
        train_val_test_split(X, y, val=0.6, test=0.5)
    with pytest.raises(ValueError, match="rows"):
        train_val_test_split(X, torch.zeros(9))


def test_batches_cover_every_example_once():
    X, y = torch.arange(10).float()[:, None], torch.arange(10)
    seen = torch.cat(
        [yb for _, yb in batches(X, y, 3, shuffle=True, generator=torch.Generator().manual_seed(0))]
    )
    assert sorted(seen.tolist()) == list(range(10))
    with pytest.raises(ValueError, match="batch_size"):
        list(batches(X, y, 0))


@pytest.mark.parametrize("name", ["blobs", "xor", "moons", "circles"])
def test_toy_sets(name):
    X, y = toy_2d(name, 100, seed=1)
    assert X.shape == (100, 2) and X.dtype == torch.float32
    assert set(y.tolist()) == {0, 1}


def test_toy_xor_labels_follow_quadrants():
    X, y = toy_2d("xor", 400, noise=0.05)
    assert torch.equal(y, ((X[:, 0] > 0) != (X[:, 1] > 0)).long())
    with pytest.raises(ValueError, match="unknown toy set"):
        toy_2d("spiral")


def test_corpus_is_prose_and_round_trips():
    text = load_corpus(max_chars=20_000)
    assert 10_000 < len(text) <= 20_000 and text.isascii()
    vocab = char_vocab(text)
    assert decode(encode(text[:500], vocab), vocab) == text[:500]
    train, val = split_text(text, val=0.2)
    assert train and val and train + "\n\n" + val == text
    with pytest.raises(ValueError, match="vocabulary"):
        encode("\u00e9", vocab)


def test_fit_learns_and_records_history():
    set_seed(0)
    X, y = toy_2d("moons", 400, noise=0.1)
    train, val, test = train_val_test_split(X, y)
    model = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.Tanh(), torch.nn.Linear(32, 2))
    history = fit(
        model,
        train,
        loss_fn=torch.nn.functional.cross_entropy,
        epochs=40,
        lr=0.02,
        val_data=val,
        progress=False,
    )
    assert len(history["train_loss"]) == 40 and len(history["val_accuracy"]) == 40
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert evaluate(model, test)["accuracy"] > 0.95


def test_fit_early_stopping_restores_best_weights():
    set_seed(0)
    X, y = toy_2d("blobs", 200)
    train, val, _ = train_val_test_split(X, y)
    model = torch.nn.Linear(2, 2)
    history = fit(
        model,
        train,
        loss_fn=torch.nn.functional.cross_entropy,
        epochs=200,
        lr=0.5,
        val_data=val,
        patience=3,
        progress=False,
    )
    assert len(history["val_loss"]) < 200
    best = min(history["val_loss"])
    final = evaluate(model, val, torch.nn.functional.cross_entropy)["loss"]
    assert final == pytest.approx(best, rel=1e-5)


def test_fit_rejects_bad_arguments():
    model = torch.nn.Linear(2, 2)
    data = (torch.zeros(4, 2), torch.zeros(4, dtype=torch.long))
    loss = torch.nn.functional.cross_entropy
    with pytest.raises(ValueError, match="epochs"):
        fit(model, data, loss_fn=loss, epochs=0)
    with pytest.raises(ValueError, match="val_data"):
        fit(model, data, loss_fn=loss, patience=2)
    with pytest.raises(TypeError, match="pair"):
        fit(model, torch.zeros(4, 2), loss_fn=loss)


def test_metrics_match_scikit_learn():
    g = torch.Generator().manual_seed(0)
    target = torch.randint(0, 4, (200,), generator=g)
    pred = torch.where(
        torch.rand(200, generator=g) < 0.7, target, torch.randint(0, 4, (200,), generator=g)
    )
    assert accuracy(pred, target) == pytest.approx(sk.accuracy_score(target, pred))
    assert confusion_matrix(pred, target, 4).tolist() == sk.confusion_matrix(target, pred).tolist()
    p, r, f = precision_recall_f1(pred, target, 4)
    sp, sr, sf, _ = sk.precision_recall_fscore_support(target, pred, zero_division=0)
    torch.testing.assert_close(p, torch.tensor(sp))
    torch.testing.assert_close(r, torch.tensor(sr))
    torch.testing.assert_close(f, torch.tensor(sf))
    # scores (N, C) work as well as labels
    assert accuracy(torch.nn.functional.one_hot(target, 4).float(), target) == 1.0
    with pytest.raises(ValueError, match="shape"):
        accuracy(pred[:10], target)


def test_plots_draw_without_error():
    X, y = toy_2d("blobs", 50)
    ax = plot_decision_boundary(lambda g: (g[:, 0] > 0).long(), X, y, resolution=20)
    assert ax.collections
    ax = plot_history({"train_loss": [3, 2, 1], "val_loss": [3, 2.5, 2]})
    assert len(ax.lines) == 2
    axes = image_grid(torch.rand(5, 1, 8, 8), labels=list("abcde"), nrow=3)
    assert axes.shape == (2, 3)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plot_decision_boundary(lambda g: g, torch.zeros(5, 3), torch.zeros(5))
    with pytest.raises(KeyError, match="history has no"):
        plot_history({"train_loss": [1]}, keys=["val_loss"])
