"""Wasserstein GAN with gradient penalty (WGAN-GP): critic losses, the penalty, a training loop.

The critic f maps a sample to an unbounded score. By the Kantorovich-Rubinstein duality the
Wasserstein-1 distance is
    W(p_data, p_g) = sup over 1-Lipschitz f of E_x[f(x)] - E_z[f(G(z))],
so the critic ascends that difference and the generator descends -E_z[f(G(z))]. Gulrajani et
al. (2017) keep f close to 1-Lipschitz with the penalty
    lambda * E_xhat[(||grad f(xhat)||_2 - 1)^2],  xhat = eps x + (1 - eps) G(z), eps ~ U[0, 1],
instead of clipping f's weights to [-c, c] as Arjovsky et al. (2017) did.
The networks are the MLPs of :mod:`course_lib.models.gan`; the critic is a ``Discriminator``
whose output is read as a score, not a logit.
"""

import torch

from ..device import seeded
from ..validation import check_int, check_positive, check_tensor


def critic_loss(real_scores, fake_scores):
    """E[f(G(z))] - E[f(x)]: the negated Wasserstein estimate, which the critic minimises."""
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores):
    """-E[f(G(z))]: the generator moves its samples to where the critic scores high."""
    return -fake_scores.mean()


def interpolates(real, fake, *, generator=None):
    """xhat_i = eps_i real_i + (1 - eps_i) fake_i with one eps_i ~ U[0, 1] per sample.

    The points on the straight lines between real and generated samples, where the optimal
    critic has gradient norm 1.
    """
    check_tensor("real", real, ndim=(2, 3, 4), dtype="floating")
    check_tensor("fake", fake, shape=tuple(real.shape), dtype=real.dtype)
    eps = torch.rand(len(real), *([1] * (real.ndim - 1)), generator=generator, dtype=real.dtype)
    eps = eps.to(real.device)
    return eps * real + (1 - eps) * fake


def gradient_penalty(critic, points):
    """E_i[(||grad_x f(x_i)||_2 - 1)^2] over the rows of ``points`` (without the lambda).

    ``create_graph=True`` keeps the gradient differentiable, so that the penalty itself can be
    back-propagated into the critic's weights (a gradient of a gradient).
    """
    check_tensor("points", points, dtype="floating")
    points = points.detach().requires_grad_(True)
    scores = critic(points)
    if scores.shape != (len(points),):
        raise ValueError(f"critic must return one score per point, got {tuple(scores.shape)}")
    (grad,) = torch.autograd.grad(scores.sum(), points, create_graph=True)
    norms = grad.reshape(len(points), -1).norm(dim=1)
    return ((norms - 1) ** 2).mean()


def clip_weights(critic, c: float) -> None:
    """Clamp every parameter of ``critic`` to [-c, c] (the original WGAN's Lipschitz constraint)."""
    check_positive("c", c)
    with torch.no_grad():
        for p in critic.parameters():
            p.clamp_(-c, c)


def train_wgan_gp(
    G,
    critic,
    sample_real,
    *,
    steps: int = 1000,
    batch_size: int = 256,
    lr: float = 1e-4,
    betas=(0.5, 0.9),
    critic_steps: int = 5,
    penalty: float = 0.1,
    seed: int = 0,
) -> dict:
    """WGAN-GP training (Gulrajani et al.'s Algorithm 1, with Adam), unconditional.

    Each of the ``steps`` generator updates follows ``critic_steps`` critic updates on
        E[f(G(z))] - E[f(x)] + penalty * E[(||grad f(xhat)||_2 - 1)^2].
    ``sample_real(n, generator)`` returns n real samples. Returns the history: ``w_estimate``
    (E[f(x)] - E[f(G(z))] at the last critic update of each step, the critic's estimate of the
    Wasserstein distance), ``penalty`` and ``g_loss`` per step.
    """
    steps = check_int("steps", steps, min_value=1)
    batch_size = check_int("batch_size", batch_size, min_value=1)
    critic_steps = check_int("critic_steps", critic_steps, min_value=1)
    check_positive("penalty", penalty, allow_zero=True)
    dev = next(G.parameters()).device
    gen = torch.Generator().manual_seed(seeded(seed))
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    opt_c = torch.optim.Adam(critic.parameters(), lr=lr, betas=betas)
    hist = {"w_estimate": [], "penalty": [], "g_loss": []}

    def noise():
        return torch.randn(batch_size, G.noise_dim, generator=gen).to(dev)

    for _ in range(steps):
        for _ in range(critic_steps):
            real = sample_real(batch_size, gen).to(dev)
            with torch.no_grad():
                fake = G(noise())
            gap = critic_loss(critic(real), critic(fake))
            gp = gradient_penalty(critic, interpolates(real, fake, generator=gen))
            opt_c.zero_grad(set_to_none=True)
            (gap + penalty * gp).backward()
            opt_c.step()
        g_loss = wasserstein_generator_loss(critic(G(noise())))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        hist["w_estimate"].append(-gap.item())
        hist["penalty"].append(gp.item())
        hist["g_loss"].append(g_loss.item())
    return hist
