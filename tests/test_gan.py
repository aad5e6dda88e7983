"""GAN losses, models, data and metrics checked against PyTorch references."""

import pytest
import torch
import torch.nn.functional as F

from course_lib.data import ring_centers, ring_of_gaussians
from course_lib.models import gan


def test_losses_match_binary_cross_entropy_with_logits():
    torch.manual_seed(0)
    r, f = torch.randn(32) * 3, torch.randn(32) * 3
    bce = F.binary_cross_entropy_with_logits
    torch.testing.assert_close(
        gan.discriminator_loss(r, f), bce(r, torch.ones(32)) + bce(f, torch.zeros(32))
    )
    torch.testing.assert_close(gan.generator_loss(f), bce(f, torch.ones(32)))
    torch.testing.assert_close(gan.generator_loss(f, saturating=True), -bce(f, torch.zeros(32)))


def test_losses_match_the_probability_formulas():
    d = torch.tensor([-2.0, 0.0, 1.5])
    D = torch.sigmoid(d)
    torch.testing.assert_close(gan.generator_loss(d), -torch.log(D).mean())
    torch.testing.assert_close(gan.generator_loss(d, saturating=True), torch.log(1 - D).mean())
    torch.testing.assert_close(
        gan.discriminator_loss(d, d), -(torch.log(D).mean() + torch.log(1 - D).mean())
    )


def test_non_saturating_gradient_stays_large_when_d_rejects_fakes():
    d = torch.tensor([-8.0], requires_grad=True)
    (g_sat,) = torch.autograd.grad(gan.generator_loss(d, saturating=True), d)
    (g_ns,) = torch.autograd.grad(gan.generator_loss(d), d)
    assert g_sat.abs() < 1e-3 and g_ns.abs() > 0.99


def test_models_shapes_and_label_errors():
    G = gan.Generator(4, 6, num_classes=3, out_activation="sigmoid")
    D = gan.Discriminator(6, num_classes=3)
    y = torch.tensor([0, 2])
    x = G(torch.randn(2, 4), y)
    assert x.shape == (2, 6) and x.min() >= 0 and x.max() <= 1
    assert D(x, y).shape == (2,)
    with pytest.raises(ValueError, match="conditional"):
        D(x)
    with pytest.raises(ValueError, match="unconditional"):
        gan.Discriminator(6)(x, y)
    with pytest.raises(ValueError, match="out_activation"):
        gan.Generator(2, 2, out_activation="tanh")


def test_ring_data_and_mode_counting():
    centers = ring_centers(8, 2.0)
    torch.testing.assert_close(centers.norm(dim=1), torch.full((8,), 2.0))
    X, k = ring_of_gaussians(4000, std=0.05, generator=torch.Generator().manual_seed(0))
    covered, counts, good = gan.count_modes(X, centers, radius=0.25)
    assert covered.all() and good > 0.99 and counts.sum() == (k >= 0).sum()
    # all points at one centre: one mode covered
    covered, _, _ = gan.count_modes(centers[:1].expand(100, 2), centers, radius=0.25)
    assert covered.sum() == 1
    with pytest.raises(ValueError):
        ring_of_gaussians(0)


def test_classifier_confidence():
    class Fixed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return torch.tensor([[0.0, 0.0], [10.0, 0.0]])[: len(x)] + self.w

    conf, labels = gan.classifier_confidence(Fixed(), torch.zeros(2, 3))
    assert labels.tolist() == [0, 0]
    torch.testing.assert_close(torch.tensor(conf), (0.5 + torch.sigmoid(torch.tensor(10.0))) / 2)


def test_train_gan_runs_and_records_snapshots():
    torch.manual_seed(0)
    G, D = gan.Generator(2, 2, hidden=(16,)), gan.Discriminator(2, hidden=(16,))
    hist = gan.train_gan(
        G,
        D,
        lambda n, g: ring_of_gaussians(n, generator=g)[0],
        steps=20,
        batch_size=32,
        snapshot_every=10,
        snapshot=lambda s: s,
    )
    assert len(hist["d_loss"]) == 20 and [s for s, _ in hist["snapshots"]] == [0, 10, 20]
