"""WGAN-GP: the gradient penalty against per-sample and finite-difference references."""

import pytest
import torch
from torch import nn

from course_lib.data import ring_of_gaussians
from course_lib.models import gan, wgan


def _linear_critic(weight, bias=0.5):
    critic = nn.Linear(weight.shape[1], 1).double()
    with torch.no_grad():
        critic.weight.copy_(weight)
        critic.bias.fill_(bias)
    return lambda x: critic(x).squeeze(1)


def test_penalty_is_zero_for_a_unit_norm_linear_critic():
    points = torch.randn(20, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    w = torch.tensor([[0.6, 0.0, -0.8]], dtype=torch.float64)  # ||w|| = 1
    assert wgan.gradient_penalty(_linear_critic(w), points).item() == pytest.approx(0, abs=1e-12)
    # ||grad f|| = ||w|| = 2 everywhere: the penalty is (2 - 1)^2 = 1
    assert wgan.gradient_penalty(_linear_critic(2 * w), points).item() == pytest.approx(1.0)


def test_penalty_matches_a_per_sample_loop():
    torch.manual_seed(0)
    critic = gan.Discriminator(2, hidden=(16, 16)).double()
    points = torch.randn(12, 2, dtype=torch.float64)
    expected = []
    for x in points:
        x = x[None].clone().requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x).sum(), x)
        expected.append((g.norm() - 1) ** 2)
    torch.testing.assert_close(wgan.gradient_penalty(critic, points), torch.stack(expected).mean())


def test_penalty_gradient_reaches_the_weights_and_matches_finite_differences():
    torch.manual_seed(1)
    points = torch.randn(8, 2, dtype=torch.float64)
    shapes = [(5, 2), (5,), (1, 5)]
    params = [torch.randn(s, dtype=torch.float64, requires_grad=True) for s in shapes]

    def penalty(W1, b1, w2):
        def critic(x):
            return (torch.tanh(x @ W1.T + b1) @ w2.T).squeeze(1)

        return wgan.gradient_penalty(critic, points)

    # gradcheck compares autograd's gradient of the penalty (a gradient of a gradient) with
    # central finite differences.
    assert torch.autograd.gradcheck(penalty, params)
    penalty(*params).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in params)


def test_interpolates_lie_between_real_and_fake():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.zeros(100, 2), torch.ones(100, 2)
    x = wgan.interpolates(real, fake, generator=g)
    assert x.shape == (100, 2) and x.min() >= 0 and x.max() <= 1
    assert torch.equal(x[:, 0], x[:, 1])  # one eps per sample, shared by its coordinates
    with pytest.raises(ValueError, match="fake must have shape"):
        wgan.interpolates(real, torch.ones(99, 2))


def test_losses_and_clipping():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])
    assert wgan.critic_loss(real, fake).item() == pytest.approx(-3.0)
    assert wgan.wasserstein_generator_loss(fake).item() == pytest.approx(1.0)
    critic = gan.Discriminator(2)
    wgan.clip_weights(critic, 0.01)
    assert max(p.abs().max().item() for p in critic.parameters()) <= 0.01
    with pytest.raises(ValueError, match="c must be > 0"):
        wgan.clip_weights(critic, 0.0)


def test_penalty_rejects_a_critic_with_the_wrong_output_shape():
    with pytest.raises(ValueError, match="one score per point"):
        wgan.gradient_penalty(nn.Linear(2, 1), torch.randn(4, 2))


def test_training_runs_and_repeats():
    def sample(n, generator):
        return ring_of_gaussians(n, generator=generator)[0]

    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        G, critic = gan.Generator(2, 2, hidden=(16,)), gan.Discriminator(2, hidden=(16,))
        hist = wgan.train_wgan_gp(G, critic, sample, steps=5, batch_size=16, critic_steps=2)
        runs.append(hist)
    assert all(len(v) == 5 for v in runs[0].values())
    assert runs[0] == runs[1]
    with pytest.raises(ValueError, match="critic_steps must be >= 1"):
        wgan.train_wgan_gp(G, critic, sample, critic_steps=0)
