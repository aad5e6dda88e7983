"""Visible checks for the chapter 10 exercises (GAN losses)."""

import math

import torch

from ..checks import case


def _scalar(out):
    assert torch.is_tensor(out) and out.ndim == 0, "return a scalar tensor (a mean over the batch)"
    return out.item()


# ---------------------------------------------------------------- gans.d_loss


@case("gans.d_loss", hint="-log D(x) for real, -log(1 - D(G(z))) for fake, D = sigmoid(logit)")
def undecided_discriminator(f):
    out = _scalar(f(torch.zeros(4), torch.zeros(4)))
    assert abs(out - 2 * math.log(2)) < 1e-5, "with D = 1/2 everywhere the loss is wrong"


@case("gans.d_loss", hint="a good discriminator has a small loss")
def confident_and_right_is_cheap(f):
    right = _scalar(f(torch.full((4,), 8.0), torch.full((4,), -8.0)))
    wrong = _scalar(f(torch.full((4,), -8.0), torch.full((4,), 8.0)))
    assert right < 0.01, "real scored real and fake scored fake should cost almost nothing"
    assert wrong > 15, "a discriminator that swaps real and fake should be punished hard"


@case("gans.d_loss", hint="use a numerically stable form (softplus or logsigmoid)")
def stable_for_large_logits(f):
    out = _scalar(f(torch.tensor([200.0]), torch.tensor([-200.0])))
    assert math.isfinite(out) and out < 1e-6, "large logits give inf or nan"


# ---------------------------------------------------------------- gans.g_loss


@case("gans.g_loss", hint="the non-saturating loss is -log D(G(z)), D = sigmoid(logit)")
def value_at_half(f):
    out = _scalar(f(torch.zeros(3)))
    assert abs(out - math.log(2)) < 1e-5, "wrong value when D(G(z)) = 1/2"


@case("gans.g_loss", hint="the loss must fall as the fakes look more real")
def decreasing_in_the_logit(f):
    values = [_scalar(f(torch.full((2,), v))) for v in (-4.0, 0.0, 4.0)]
    assert values[0] > values[1] > values[2], "loss should decrease when D(G(z)) increases"


@case("gans.g_loss", hint="non-saturating: the gradient stays near -1 when D(G(z)) is near 0")
def strong_gradient_when_losing(f):
    d = torch.tensor([-10.0], requires_grad=True)
    (g,) = torch.autograd.grad(f(d), d)
    assert abs(g.item() + 1) < 1e-3, "the gradient vanishes when the fakes are rejected"


# ---------------------------------------------------------------- gans.optimal_d


@case("gans.optimal_d", hint="D*(x) = p_data(x) / (p_data(x) + p_g(x))")
def equal_densities(f):
    out = f(torch.tensor([0.3, 2.0]), torch.tensor([0.3, 2.0]))
    assert torch.is_tensor(out) and out.shape == (2,), "return one value per point"
    assert torch.allclose(out, torch.full((2,), 0.5)), "when p_g = p_data, D* should be undecided"


@case("gans.optimal_d", hint="D* is a probability of being real")
def only_data_or_only_fakes(f):
    out = f(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]))
    assert torch.allclose(out, torch.tensor([1.0, 0.0])), (
        "where only one density is positive D* is wrong"
    )
    out = f(torch.tensor([3.0]), torch.tensor([1.0]))
    assert torch.allclose(out, torch.tensor([0.75])), "wrong value for unequal densities"
