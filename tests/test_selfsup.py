"""Contrastive and layer-wise pretraining pieces against brute-force references."""

import math

import pytest
import torch
from torch import nn

from course_lib.selfsup import (
    ContrastiveModel,
    augment,
    deep_mlp,
    nt_xent,
    pretrain_layerwise,
    train_contrastive,
)


def _nt_xent_loop(z1, z2, temperature):
    """NT-Xent written out one view at a time, as in the SimCLR paper."""
    u = torch.cat([z1, z2])
    u = u / u.norm(dim=1, keepdim=True)
    n = len(z1)
    total = 0.0
    for i in range(2 * n):
        partner = (i + n) % (2 * n)
        num = math.exp(float(u[i] @ u[partner]) / temperature)
        den = sum(math.exp(float(u[i] @ u[j]) / temperature) for j in range(2 * n) if j != i)
        total += -math.log(num / den)
    return total / (2 * n)


@pytest.mark.parametrize("n, temperature", [(2, 0.5), (5, 0.1), (7, 1.0)])
def test_nt_xent_matches_a_loop(n, temperature):
    g = torch.Generator().manual_seed(n)
    z1, z2 = torch.randn(2, n, 4, generator=g, dtype=torch.float64)
    expected = torch.tensor(_nt_xent_loop(z1, z2, temperature), dtype=torch.float64)
    torch.testing.assert_close(nt_xent(z1, z2, temperature), expected)


def test_nt_xent_is_small_for_matching_views_and_has_gradients():
    z = torch.eye(6, dtype=torch.float64)
    low = nt_xent(z, z.clone(), temperature=0.05)
    assert low < 1e-6
    z1 = torch.randn(6, 3, requires_grad=True)
    nt_xent(z1, torch.randn(6, 3)).backward()
    assert z1.grad is not None and torch.isfinite(z1.grad).all()


def test_nt_xent_bad_arguments():
    with pytest.raises(ValueError, match="at least 2"):
        nt_xent(torch.randn(1, 3), torch.randn(1, 3))
    with pytest.raises(ValueError, match="z2 must have shape"):
        nt_xent(torch.randn(4, 3), torch.randn(4, 2))
    with pytest.raises(ValueError, match="temperature"):
        nt_xent(torch.randn(4, 3), torch.randn(4, 3), temperature=0.0)


def test_augment_without_change_is_the_identity_and_stays_in_range():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(5, 1, 8, 8, generator=g)
    same = augment(x, generator=g, shift=0.0, rotation=0.0, noise=0.0)
    torch.testing.assert_close(same, x, atol=1e-6, rtol=0)
    out = augment(x, generator=g)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert not torch.allclose(out, x)


def test_augment_shifts_by_whole_pixels_when_the_shift_is_exact():
    # rotation 0 and noise 0: a one-pixel shift moves a single bright pixel by at most 1
    x = torch.zeros(50, 1, 8, 8)
    x[:, :, 4, 4] = 1.0
    out = augment(x, generator=torch.Generator().manual_seed(1), rotation=0.0, noise=0.0)
    rows, cols = torch.arange(8.0)[:, None], torch.arange(8.0)[None, :]
    mass = out.sum((1, 2, 3))
    centre_r = (out[:, 0] * rows).sum((1, 2)) / mass
    centre_c = (out[:, 0] * cols).sum((1, 2)) / mass
    assert (centre_r - 4).abs().max() <= 1 + 1e-5 and (centre_c - 4).abs().max() <= 1 + 1e-5
    torch.testing.assert_close(mass, torch.ones(50))


def test_augment_is_reproducible_with_a_generator():
    x = torch.rand(3, 1, 8, 8)
    a = augment(x, generator=torch.Generator().manual_seed(7))
    b = augment(x, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="x must be 4-D"):
        augment(torch.rand(3, 64))


def test_train_contrastive_lowers_the_loss():
    torch.manual_seed(0)
    X = torch.rand(64, 1, 8, 8)
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU())
    model = ContrastiveModel(encoder, 32, projection_dim=8)
    history = train_contrastive(model, X, epochs=15, batch_size=32, lr=1e-2)
    assert len(history) == 15 and history[-1] < history[0]
    assert model(X[:4]).shape == (4, 8) and model.encoder(X[:4]).shape == (4, 32)


def test_deep_mlp_layout():
    net = deep_mlp((64, 16, 16, 10))
    kinds = [type(m) for m in net]
    assert kinds == [nn.Linear, nn.Sigmoid, nn.Linear, nn.Sigmoid, nn.Linear]
    with pytest.raises(ValueError, match="at least an input"):
        deep_mlp((64,))


def test_pretrain_layerwise_trains_hidden_layers_only_and_lowers_reconstruction():
    torch.manual_seed(0)
    X = torch.rand(128, 12)
    net = deep_mlp((12, 8, 6, 3))
    before = [p.detach().clone() for p in net.parameters()]
    one = pretrain_layerwise(deep_mlp((12, 8, 6, 3)), X, epochs=1, seed=1)
    torch.manual_seed(0)
    many = pretrain_layerwise(net, X, epochs=30, seed=1)
    assert len(many) == 2 and many[0] < one[0]
    after = list(net.parameters())
    assert not torch.equal(before[0], after[0]) and not torch.equal(before[2], after[2])
    torch.testing.assert_close(before[4], after[4])  # the output layer is untouched
    torch.testing.assert_close(before[5], after[5])
