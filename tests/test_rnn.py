import math

import pytest
import torch
from torch import nn

from course_lib.models.rnn import (
    CharLM,
    SeqClassifier,
    cell_params,
    char_lm_cross_entropy,
    gradient_vs_lag,
    gru_cell,
    lstm_cell,
    random_windows,
    rnn_bptt,
    rnn_cell,
    rnn_forward,
    sample,
    softmax_temperature,
    train_char_lm,
)


def test_rnn_cell_matches_torch():
    torch.manual_seed(0)
    cell = nn.RNNCell(5, 7)
    x, h = torch.randn(3, 5), torch.randn(3, 7)
    torch.testing.assert_close(rnn_cell(x, h, *cell_params(cell)), cell(x, h))


def test_gru_cell_matches_torch():
    torch.manual_seed(1)
    cell = nn.GRUCell(5, 7)
    x, h = torch.randn(3, 5), torch.randn(3, 7)
    torch.testing.assert_close(gru_cell(x, h, *cell_params(cell)), cell(x, h))


def test_lstm_cell_matches_torch():
    torch.manual_seed(2)
    cell = nn.LSTMCell(5, 7)
    x, h, c = torch.randn(3, 5), torch.randn(3, 7), torch.randn(3, 7)
    mine = lstm_cell(x, (h, c), *cell_params(cell))
    ref = cell(x, (h, c))
    torch.testing.assert_close(mine[0], ref[0])
    torch.testing.assert_close(mine[1], ref[1])


def test_rnn_forward_matches_nn_rnn():
    torch.manual_seed(3)
    rnn = nn.RNN(4, 6)
    xs, h0 = torch.randn(9, 2, 4), torch.randn(2, 6)
    hs = rnn_forward(xs, h0, rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0)
    out, hn = rnn(xs, h0[None])
    torch.testing.assert_close(hs[1:], out)
    torch.testing.assert_close(hs[-1], hn[0])


def test_bptt_matches_autograd():
    torch.manual_seed(4)
    T, N, D, H = 12, 3, 4, 5
    W_ih = torch.randn(H, D, dtype=torch.float64, requires_grad=True)
    W_hh = (0.5 * torch.randn(H, H, dtype=torch.float64)).requires_grad_(True)
    b_ih = torch.randn(H, dtype=torch.float64, requires_grad=True)
    b_hh = torch.randn(H, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(N, H, dtype=torch.float64, requires_grad=True)
    xs = torch.randn(T, N, D, dtype=torch.float64)
    targets = torch.randn(T, N, H, dtype=torch.float64)
    hs = rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh)
    loss = 0.5 * ((hs[1:] - targets) ** 2).sum()
    loss.backward()
    grads = rnn_bptt(xs, hs.detach(), hs.detach()[1:] - targets, W_hh.detach())
    for name, ref in (("W_ih", W_ih), ("W_hh", W_hh), ("b", b_ih), ("h0", h0)):
        torch.testing.assert_close(grads[name], ref.grad, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(grads["b"], b_hh.grad)


def test_gradient_vs_lag_decays_for_small_weights():
    torch.manual_seed(5)
    cell = nn.RNNCell(3, 16)
    with torch.no_grad():
        cell.weight_hh.mul_(0.3)
    g = gradient_vs_lag(cell, torch.randn(30, 4, 3))
    assert g.shape == (30,) and g[0] < 1e-6 * g[-1]
    assert gradient_vs_lag(nn.LSTMCell(3, 8), torch.randn(5, 2, 3)).shape == (5,)


def test_softmax_temperature():
    z = torch.tensor([1.0, 2.0, 3.0])
    torch.testing.assert_close(softmax_temperature(z, 1.0), torch.softmax(z, -1))
    assert softmax_temperature(z, 0.01)[2] > 0.999
    flat = torch.full((3,), 1 / 3)
    torch.testing.assert_close(softmax_temperature(z, 1e4), flat, atol=1e-3, rtol=0)
    with pytest.raises(ValueError, match="temperature"):
        softmax_temperature(z, 0)


def test_random_windows_are_shifted():
    ids = torch.arange(100)
    x, y = random_windows(ids, 5, 10, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 10)
    assert torch.equal(y, x + 1)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_charlm_cross_entropy_equals_full_pass(cell):
    torch.manual_seed(6)
    model = CharLM(11, emb_dim=4, hidden=8, cell=cell).eval()
    ids = torch.randint(0, 11, (203,))
    logits, _ = model(ids[None, :-1])
    ref = nn.functional.cross_entropy(logits[0], ids[1:]).item()
    # one stream in small chunks carries the state, so it must equal a single full pass
    assert math.isclose(char_lm_cross_entropy(model, ids, n_streams=1, chunk=17), ref, rel_tol=1e-5)
    assert char_lm_cross_entropy(model, ids, n_streams=4, chunk=7) > 0


def test_charlm_learns_a_cycle_and_samples():
    torch.manual_seed(7)
    ids = torch.arange(5).repeat(200)  # 0 1 2 3 4 0 1 2 ...
    model = CharLM(5, emb_dim=8, hidden=16)
    train_char_lm(model, ids, steps=60, batch_size=16, seq_len=20, lr=1e-2, progress=False)
    assert char_lm_cross_entropy(model, ids) < 0.05
    out = sample(model, torch.tensor([0, 1]), 8, temperature=0.5)
    assert out.tolist() == [2, 3, 4, 0, 1, 2, 3, 4]


def test_seq_classifier_shapes_and_bad_cell():
    m = SeqClassifier(7, 3, cell="gru")
    assert m(torch.randint(0, 7, (4, 9))).shape == (4, 3)
    with pytest.raises(ValueError, match="cell"):
        SeqClassifier(7, 3, cell="transformer")
