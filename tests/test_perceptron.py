"""Chapter 02: perceptron, Adaline and the LMS noise canceller."""

import numpy as np
import pytest
import torch

from course_lib.data import toy_2d
from course_lib.data.signals import maternal_fetal_mixture, separable_with_margin, snr_db
from course_lib.models import perceptron as P


def test_update_only_on_mistakes():
    w, b = torch.tensor([1.0, 0.0]), 0.0
    same_w, same_b, mistake = P.update(w, b, torch.tensor([2.0, 1.0]), 1)
    assert not mistake and torch.equal(same_w, w) and same_b == b
    new_w, new_b, mistake = P.update(w, b, torch.tensor([2.0, 1.0]), -1, lr=0.5)
    assert mistake and torch.equal(new_w, torch.tensor([0.0, -0.5])) and new_b == -0.5


@pytest.mark.parametrize("margin", [0.05, 0.1, 0.3])
def test_novikoff_bound_holds(margin):
    X, y, w_star = separable_with_margin(150, margin=margin, seed=4)
    assert (y * (X @ w_star)).min() >= margin
    run = P.train_perceptron(X, y, bias=False, max_epochs=1000)
    assert run.converged
    assert run.mistakes <= P.novikoff_bound(X, y, w_star)


def test_bound_rejects_non_separating_direction():
    X, y, w_star = separable_with_margin(50, margin=0.1)
    with pytest.raises(ValueError, match="does not separate"):
        P.novikoff_bound(X, y, -w_star)


def test_perceptron_never_converges_on_xor():
    X, y = toy_2d("xor", 100, noise=0.1)
    run = P.train_perceptron(X.double(), 2 * y - 1, max_epochs=50)
    assert not run.converged


def test_perceptron_rejects_01_labels():
    with pytest.raises(ValueError, match="-1 or \\+1"):
        P.train_perceptron(torch.zeros(3, 2), torch.tensor([0, 1, 1]))


def test_perceptron_matches_sklearn_on_separable_data():
    from sklearn.linear_model import Perceptron

    X, y, _ = separable_with_margin(100, margin=0.1, seed=1)
    run = P.train_perceptron(X, y)
    ours = P.predict(run.w, run.b, X)
    theirs = Perceptron(tol=None, max_iter=1000, random_state=0).fit(X.numpy(), y.numpy())
    # both separate the training data perfectly (the weights differ: visiting orders differ)
    assert torch.equal(ours, y)
    assert (theirs.predict(X.numpy()) == y.numpy()).all()


def test_adaline_reaches_least_squares():
    X, y = toy_2d("blobs", 150, noise=0.3, seed=2)
    X, y = X.double(), (2 * y - 1).double()
    w, b, losses = P.train_adaline(X, y, lr=0.002, epochs=40)
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], 1)
    best = torch.linalg.lstsq(A, y[:, None]).solution.squeeze()
    torch.testing.assert_close(
        torch.cat([w, torch.tensor([b], dtype=w.dtype)]), best, atol=0.02, rtol=0.05
    )


def test_lms_identifies_a_linear_system():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4000)
    h = np.array([0.4, -0.3, 0.2])
    d = np.convolve(x, h)[: len(x)]
    _, e, w = P.lms_filter(x, d, taps=3, mu=0.01)
    np.testing.assert_allclose(w, h, atol=1e-3)
    assert np.mean(e[-500:] ** 2) < 1e-6


def test_noise_canceller_gains_20_db():
    ecg = maternal_fetal_mixture(duration=30.0, fs=250, seed=1)
    _, cleaned, _ = P.lms_filter(ecg["reference"], ecg["primary"])
    half = slice(len(cleaned) // 2, None)
    before = snr_db(ecg["fetal"][half], (ecg["primary"] - ecg["fetal"])[half])
    after = snr_db(ecg["fetal"][half], (cleaned - ecg["fetal"])[half])
    assert after - before >= 20


def test_lms_rejects_mismatched_signals():
    with pytest.raises(ValueError, match="equal length"):
        P.lms_filter(np.zeros(10), np.zeros(9))


def test_multiclass_perceptron_separates_blobs():
    from sklearn.datasets import make_blobs

    X, y = make_blobs(300, centers=3, cluster_std=0.5, random_state=0)
    X, y = torch.tensor(X), torch.tensor(y)
    W = P.train_multiclass_perceptron(X, y, 3, epochs=20)
    assert (P.predict_multiclass(W, X) == y).double().mean() > 0.98
