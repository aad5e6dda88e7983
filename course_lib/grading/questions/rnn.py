"""Visible checks for the recurrent-network exercises (chapter 12)."""

import torch
from torch import nn

from ..checks import case


@case(
    "rnn.lstm_step", hint="Split the pre-activations into i, f, g, o (in that order) with chunk(4)."
)
def matches_lstm_cell(fn):
    torch.manual_seed(0)
    cell = nn.LSTMCell(3, 4)
    x, h, c = torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
    with torch.no_grad():
        got_h, got_c = fn(x, h, c, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        ref_h, ref_c = cell(x, (h, c))
    assert torch.allclose(got_c, ref_c, atol=1e-5), "the new cell state c' is wrong"
    assert torch.allclose(got_h, ref_h, atol=1e-5), "the new hidden state h' is wrong"


@case("rnn.temperature_probs", hint="softmax(logits / T) along the last dimension.")
def probabilities(fn):
    p = fn(torch.tensor([1.0, 2.0, 3.0]), 1.0)
    assert torch.allclose(p.sum(), torch.tensor(1.0)), "probabilities must sum to 1"
    ref = torch.softmax(torch.tensor([1.0, 2.0, 3.0]), -1)
    assert torch.allclose(p, ref), "T = 1 is the plain softmax"


@case("rnn.temperature_probs", hint="Lower T sharpens the distribution, higher T flattens it.")
def sharpening(fn):
    z = torch.tensor([0.0, 1.0])
    assert fn(z, 0.5)[1] > fn(z, 1.0)[1] > fn(z, 4.0)[1], (
        "T must sharpen (T < 1) or flatten (T > 1)"
    )


@case(
    "rnn.rnn_unroll", hint="h_t = tanh(x_t W_ih^T + h_{t-1} W_hh^T + b); return h_1..h_T stacked."
)
def matches_nn_rnn(fn):
    torch.manual_seed(0)
    rnn = nn.RNN(3, 4, bias=True)
    xs, h0 = torch.randn(5, 2, 3), torch.randn(2, 4)
    with torch.no_grad():
        got = fn(xs, h0, rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0 + rnn.bias_hh_l0)
        ref, _ = rnn(xs, h0[None])
    assert got.shape == (5, 2, 4), f"expected shape (T, N, H) = (5, 2, 4), got {tuple(got.shape)}"
    assert torch.allclose(got, ref, atol=1e-5), "states differ from nn.RNN's"
