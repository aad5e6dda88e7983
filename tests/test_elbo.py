"""The linear-Gaussian ELBO pieces against torch.distributions and Monte Carlo."""

import math

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from course_lib.elbo import LinearGaussian, gaussian_kl


def _random_spd(k, g):
    A = torch.randn(k, k, generator=g, dtype=torch.float64)
    return A @ A.T + 0.1 * torch.eye(k, dtype=torch.float64)


def _model(D=5, k=2, sigma=0.7, seed=0):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(D, k, generator=g, dtype=torch.float64)
    b = torch.randn(D, generator=g, dtype=torch.float64)
    x = torch.randn(D, generator=g, dtype=torch.float64)
    return LinearGaussian(W, b, sigma), x, g


def test_gaussian_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(1)
    for k in (1, 3):
        m1, m2 = torch.randn(2, k, generator=g, dtype=torch.float64)
        S1, S2 = _random_spd(k, g), _random_spd(k, g)
        expected = kl_divergence(MultivariateNormal(m1, S1), MultivariateNormal(m2, S2))
        torch.testing.assert_close(gaussian_kl(m1, S1, m2, S2), expected)
        torch.testing.assert_close(gaussian_kl(m1, S1, m1, S1), torch.tensor(0.0).double())


def test_log_evidence_matches_the_marginal_gaussian():
    model, x, _ = _model()
    C = model.W @ model.W.T + model.sigma**2 * torch.eye(5, dtype=torch.float64)
    expected = MultivariateNormal(model.b, C).log_prob(x)
    torch.testing.assert_close(model.log_evidence(x), expected)


def test_posterior_satisfies_bayes_rule_at_every_z():
    # log p(z | x) = log p(x | z) + log p(z) - log p(x), for any z
    model, x, g = _model()
    mu, S = model.posterior(x)
    for _ in range(3):
        z = torch.randn(2, generator=g, dtype=torch.float64)
        log_lik = Normal(model.W @ z + model.b, model.sigma).log_prob(x).sum()
        log_prior = Normal(0.0, 1.0).log_prob(z).sum()
        expected = log_lik + log_prior - model.log_evidence(x)
        torch.testing.assert_close(MultivariateNormal(mu, S).log_prob(z), expected)


def test_elbo_plus_kl_to_the_posterior_is_the_log_evidence():
    model, x, g = _model(seed=3)
    mu, S_post = model.posterior(x)
    for _ in range(4):
        m, S = torch.randn(2, generator=g, dtype=torch.float64), _random_spd(2, g)
        total = model.elbo(x, m, S) + gaussian_kl(m, S, mu, S_post)
        torch.testing.assert_close(total, model.log_evidence(x))
        assert model.elbo(x, m, S) < model.log_evidence(x)
    torch.testing.assert_close(model.elbo(x, mu, S_post), model.log_evidence(x))


def test_elbo_closed_form_agrees_with_monte_carlo():
    model, x, g = _model(seed=4)
    m, S = torch.randn(2, generator=g, dtype=torch.float64), 0.3 * _random_spd(2, g)
    mean, se = model.elbo_monte_carlo(x, m, S, 200_000, generator=g)
    assert abs(mean - model.elbo(x, m, S)) < 5 * se


def test_elbo_at_one_latent_dimension_by_quadrature():
    # k = 1: integrate q(z) [log p(x|z) + log p(z) - log q(z)] on a fine grid
    model, x, _ = _model(D=3, k=1, seed=5)
    m, s = torch.tensor([0.4], dtype=torch.float64), 0.6
    z = torch.linspace(-8, 8, 200_001, dtype=torch.float64)
    q = Normal(m, s)
    integrand = (
        Normal(model.W * z + model.b[:, None], model.sigma).log_prob(x[:, None]).sum(0)
        + Normal(0.0, 1.0).log_prob(z)
        - q.log_prob(z)
    ) * q.log_prob(z).exp()
    quad = torch.trapezoid(integrand, z)
    torch.testing.assert_close(model.elbo(x, m, torch.tensor([[s**2]]).double()), quad)


def test_bad_arguments_are_named():
    model, x, _ = _model()
    with pytest.raises(ValueError, match="x must have shape"):
        model.log_evidence(x[:3])
    with pytest.raises(ValueError, match="latents"):
        model.elbo(x, torch.zeros(3).double(), torch.eye(3).double())
    with pytest.raises(ValueError, match="sigma"):
        LinearGaussian(model.W, model.b, -1.0)
    with pytest.raises(ValueError, match="b must have shape"):
        LinearGaussian(model.W, model.b[:2], 1.0)
    with pytest.raises(ValueError, match="n must be >= 2"):
        model.elbo_monte_carlo(x, torch.zeros(2).double(), torch.eye(2).double(), 1)
    with pytest.raises(ValueError, match="same space"):
        gaussian_kl(torch.zeros(2), torch.eye(2), torch.zeros(3), torch.eye(3))
    assert math.isfinite(model.log_evidence(x).item())
