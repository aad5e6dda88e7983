"""Visible checks for the chapter 09 exercises (autoencoders and VAEs)."""

import torch

from ..checks import case


def _close(a, b, tol=1e-5):
    return torch.is_tensor(a) and a.shape == b.shape and torch.allclose(a.float(), b, atol=tol)


# ---------------------------------------------------------------- autoencoders.reparameterize


@case("autoencoders.reparameterize", hint="sigma is exp(logvar / 2), not exp(logvar)")
def zero_logvar_gives_mu_plus_eps(f):
    mu, logvar, eps = torch.tensor([[1.0, -2.0]]), torch.zeros(1, 2), torch.tensor([[0.5, 0.5]])
    out = f(mu, logvar, eps)
    assert _close(out, torch.tensor([[1.5, -1.5]])), "with logvar = 0 z should be mu + eps"


@case("autoencoders.reparameterize", hint="sigma is exp(logvar / 2), not exp(logvar)")
def sigma_scales_the_noise(f):
    mu, eps = torch.zeros(2, 1), torch.ones(2, 1)
    logvar = torch.log(torch.tensor([[4.0], [0.25]]))
    out = f(mu, logvar, eps)
    assert torch.is_tensor(out) and out.shape == (2, 1), "z must have the shape of mu"
    assert not _close(out, torch.tensor([[4.0], [0.25]])), (
        "the noise was scaled by the variance, not the standard deviation"
    )
    assert _close(out, torch.tensor([[2.0], [0.5]])), "z - mu should equal sigma * eps"


@case("autoencoders.reparameterize", hint="z must stay differentiable in mu and logvar")
def gradients_flow_to_mu_and_logvar(f):
    mu = torch.zeros(1, 3, requires_grad=True)
    logvar = torch.zeros(1, 3, requires_grad=True)
    f(mu, logvar, torch.ones(1, 3)).sum().backward()
    assert mu.grad is not None and logvar.grad is not None, "no gradient reached mu or logvar"
    assert _close(logvar.grad, torch.full((1, 3), 0.5)), "d z / d logvar is wrong"


# ---------------------------------------------------------------- autoencoders.kl


@case("autoencoders.kl", hint="at mu = 0, sigma = 1 the encoder equals the prior")
def zero_at_the_prior(f):
    out = f(torch.zeros(3, 2), torch.zeros(3, 2))
    assert torch.is_tensor(out) and out.shape == (3,), (
        "return one KL value per example (sum over latent dims)"
    )
    assert _close(out, torch.zeros(3)), "KL of the prior to itself must be 0"


@case("autoencoders.kl", hint="KL = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)")
def mean_shift(f):
    out = f(torch.tensor([[2.0, 0.0]]), torch.zeros(1, 2))
    assert _close(out, torch.tensor([2.0])), "wrong value for a shifted mean with unit variance"


@case("autoencoders.kl", hint="the encoder predicts log sigma^2, so sigma^2 = exp(logvar)")
def variance_change(f):
    out = f(torch.zeros(1, 1), torch.tensor([[1.0]]))
    expected = 0.5 * (torch.e - 1 - 1)
    assert _close(out, torch.tensor([expected])), "wrong value for a changed variance"


# ---------------------------------------------------------------- autoencoders.tconv_size


@case("autoencoders.tconv_size", hint="o = (i - 1) s - 2p + (k - 1) + op + 1")
def stride_one(f):
    assert f(60, 5, 1, 0, 0) == 64, "stride 1, no padding: wrong size"
    assert f(64, 5, 1, 2, 0) == 64, "padding crops rows and columns: wrong size"


@case("autoencoders.tconv_size", hint="the stride spaces out the stamped kernels")
def stride_two(f):
    assert f(64, 5, 2, 2, 0) == 127, "stride 2: wrong size"
    assert f(64, 5, 2, 2, 1) == 128, "output_padding adds to the output size"
    assert isinstance(f(4, 3, 2, 1, 1), int), "return a Python int"
