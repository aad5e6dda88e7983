"""Losses, risks and the known-distribution helpers of course_lib.risk."""

import math

import pytest
import torch
import torch.nn.functional as F

from course_lib.risk import (
    bias_variance,
    empirical_risk,
    erm_threshold,
    gaussian_neg_log_density,
    sample_sine,
    sample_two_gaussians,
    squared_loss,
    threshold_risk,
    zero_one_loss,
)


def test_losses_match_torch():
    a, b = torch.tensor([0.5, 2.0, -1.0]), torch.tensor([1.0, 2.0, 0.0])
    torch.testing.assert_close(squared_loss(a, b), F.mse_loss(a, b, reduction="none"))
    x = torch.tensor([0.3, -2.0, 5.0])
    ref = -torch.distributions.Normal(1.0, 2.0).log_prob(x)
    torch.testing.assert_close(gaussian_neg_log_density(x, 1.0, 2.0), ref)
    torch.testing.assert_close(
        zero_one_loss(torch.tensor([1, 0, 2]), torch.tensor([1, 1, 2])),
        torch.tensor([0.0, 1.0, 0.0]),
    )


def test_empirical_risk_is_mean_loss():
    X = torch.tensor([[1.0], [2.0], [3.0]])
    y = torch.tensor([1.0, 1.0, 1.0])
    assert empirical_risk(squared_loss, lambda X: X[:, 0], X, y) == pytest.approx(5 / 3)
    with pytest.raises(ValueError, match="rows"):
        empirical_risk(squared_loss, lambda X: X[:, 0], X, y[:2])


def test_threshold_risk_agrees_with_monte_carlo():
    g = torch.Generator().manual_seed(0)
    x, y = sample_two_gaussians(400_000, generator=g)
    for t in (-0.5, 0.0, 1.0):
        mc = ((x > t).long() != y).double().mean().item()
        assert mc == pytest.approx(threshold_risk(t).item(), abs=4e-3)
    assert threshold_risk(0.0) < threshold_risk(0.1) and threshold_risk(0.0) < threshold_risk(-0.1)


def test_erm_threshold_minimises_training_error():
    g = torch.Generator().manual_seed(1)
    x, y = sample_two_gaussians(25, size=(50,), generator=g)
    t, err = erm_threshold(x, y)
    # Brute force: try every midpoint and both ends.
    for r in range(50):
        cands = torch.cat([x[r] - 1e-9, x[r] + 1e-9])
        errs = ((x[r][None] > cands[:, None]).long() != y[r][None]).double().mean(1)
        assert err[r].item() == pytest.approx(errs.min().item())
        assert ((x[r] > t[r]).long() != y[r]).double().mean().item() == pytest.approx(err[r].item())


def test_bias_variance_sums_to_mean_squared_error():
    g = torch.Generator().manual_seed(0)
    preds = torch.randn(100, 30, generator=g, dtype=torch.float64) + 0.5
    truth = torch.zeros(30, dtype=torch.float64)
    b2, var = bias_variance(preds, truth)
    assert b2 + var == pytest.approx(((preds - truth) ** 2).mean().item())
    assert b2 == pytest.approx(((preds.mean(0) - truth) ** 2).mean().item())


def test_samplers_have_the_stated_distribution():
    g = torch.Generator().manual_seed(0)
    x, y = sample_sine(100_000, noise=0.3, generator=g)
    assert x.min() >= -1 and x.max() <= 1
    resid = y - torch.sin(math.pi * x)
    assert resid.std().item() == pytest.approx(0.3, rel=0.02)
    with pytest.raises(ValueError, match="n must be"):
        sample_two_gaussians(0)
