"""The offline data sets of chapter 06: rendered glyphs and generated MNIST-1D."""

import socket
import time

import numpy as np
import pytest
import torch

from course_lib.data import GLYPH_CLASSES, load_glyphs, load_mnist1d, make_glyphs
from course_lib.data.glyphs import glyph_templates


def test_templates_show_every_letter_in_every_font():
    T = glyph_templates()
    assert T.shape[1:] == (21, 64, 64) and T.shape[0] >= 3
    ink = T.sum(axis=(2, 3))
    assert (ink > 50).all(), "a template is (almost) empty"
    assert 0 <= T.min() and T.max() <= 1
    # different letters of one font differ
    flat = T[0].reshape(21, -1)
    dist = ((flat[:, None] - flat[None]) ** 2).sum(-1)
    assert (dist + np.eye(21) * 1e9).min() > 10


def test_make_glyphs_is_balanced_deterministic_and_fast():
    start = time.perf_counter()
    X, y = make_glyphs(50, seed=3)
    # a few seconds on a laptop; the margin is wide so that a loaded CI machine passes and
    # only an accidental blow-up (minutes) fails
    assert time.perf_counter() - start < 120
    assert len(GLYPH_CLASSES) == 21
    assert X.shape == (21 * 50, 1, 28, 28) and X.dtype == torch.float32
    assert y.dtype == torch.int64 and torch.equal(y.bincount(), torch.full((21,), 50))
    assert 0 <= X.min() and X.max() <= 1
    X2, y2 = make_glyphs(50, seed=3)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    X3, _ = make_glyphs(50, seed=4)
    assert not torch.equal(X, X3)


def test_jitter_makes_images_of_one_class_differ():
    X, y = make_glyphs(20, size=32, noise=0.0)
    a = X[y == 0]
    assert X.shape[-1] == 32
    assert (a[0] - a[1:]).abs().amax(dim=(1, 2, 3)).min() > 0.1


def test_load_glyphs_splits():
    train, test = load_glyphs(40, test=0.25)
    assert len(train.y) == 630 and len(test.y) == 210
    with pytest.raises(ValueError, match="test"):
        load_glyphs(10, test=1.5)
    with pytest.raises(ValueError, match="n_per_class"):
        make_glyphs(0)
    with pytest.raises(ValueError, match="size"):
        make_glyphs(2, size=4)


def test_mnist1d_is_generated_offline_and_deterministic(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("load_mnist1d tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    state = np.random.get_state()
    train, test = load_mnist1d(500)
    assert train.X.shape == (400, 40) and test.X.shape == (100, 40)
    assert train.y.dtype == torch.int64 and set(train.y.tolist()) <= set(range(10))
    assert np.array_equal(np.random.get_state()[1], state[1]), "the global NumPy state changed"
    again, _ = load_mnist1d(500)
    assert torch.equal(train.X, again.X)
    with pytest.raises(ValueError, match="num_samples"):
        load_mnist1d(5)
