"""Generative adversarial networks: small MLP generator and discriminator, losses, training loop.

Value function of the game (Goodfellow et al., 2014):
    min_G max_D V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))],
with D(x) = sigmoid(d(x)) for a logit d(x). Real is labelled 1, fake 0.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ..device import seeded


def _check_positive_int(name, value):
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _mlp(sizes, out_activation=None, slope: float = 0.2):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(slope))
    if out_activation is not None:
        layers.append(out_activation)
    return nn.Sequential(*layers)


class Generator(nn.Module):
    """G(z, y): noise (and, with ``num_classes``, a one-hot label) -> ``out_dim`` values.

    ``out_activation`` is ``"sigmoid"`` for pixels in [0, 1] or ``None`` for points in the plane.
    """

    def __init__(
        self,
        noise_dim: int = 2,
        out_dim: int = 2,
        hidden=(128, 128),
        *,
        num_classes: int = 0,
        out_activation: str | None = None,
    ):
        super().__init__()
        _check_positive_int("noise_dim", noise_dim)
        _check_positive_int("out_dim", out_dim)
        if out_activation not in (None, "sigmoid"):
            raise ValueError(f"out_activation must be None or 'sigmoid', got {out_activation!r}")
        act = nn.Sigmoid() if out_activation == "sigmoid" else None
        self.net = _mlp((noise_dim + num_classes, *hidden, out_dim), act)
        self.noise_dim, self.num_classes = noise_dim, num_classes

    def forward(self, z, y=None):
        return self.net(_with_label(z, y, self.num_classes))

    def sample(self, n: int, y=None, *, generator=None):
        """n samples G(z) with z ~ N(0, I) (labels ``y`` of shape (n,) for a conditional G)."""
        _check_positive_int("n", n)
        dev = next(self.parameters()).device
        z = torch.randn(n, self.noise_dim, generator=generator).to(dev)
        return self(z, None if y is None else y.to(dev))


class Discriminator(nn.Module):
    """d(x, y): a sample (and, with ``num_classes``, a one-hot label) -> one real/fake logit.

    D(x) = sigmoid(d(x)) is the probability that x is real. LeakyReLU keeps gradients flowing
    for negative pre-activations, which helps the generator early in training.
    """

    def __init__(self, in_dim: int = 2, hidden=(128, 128), *, num_classes: int = 0):
        super().__init__()
        _check_positive_int("in_dim", in_dim)
        self.net = _mlp((in_dim + num_classes, *hidden, 1))
        self.in_dim, self.num_classes = in_dim, num_classes

    def forward(self, x, y=None):
        x = x.reshape(len(x), -1)
        if x.shape[1] != self.in_dim:
            raise ValueError(
                f"expected inputs with {self.in_dim} values each, got {tuple(x.shape)}"
            )
        return self.net(_with_label(x, y, self.num_classes)).squeeze(1)


def _with_label(x, y, num_classes):
    if num_classes == 0:
        if y is not None:
            raise ValueError("this model is unconditional (num_classes=0) but got labels y")
        return x
    if y is None:
        raise ValueError(f"this model is conditional (num_classes={num_classes}); pass labels y")
    return torch.cat([x, F.one_hot(y, num_classes).to(x.dtype)], dim=1)


# ---------------------------------------------------------------- losses (on logits)


def discriminator_loss(real_logits, fake_logits):
    """-(1/m) sum [log D(x) + log(1 - D(G(z)))], the negated value the discriminator ascends.

    With D = sigmoid(d): -log sigmoid(d) = softplus(-d) and -log(1 - sigmoid(d)) = softplus(d).
    Returned as the sum of the two batch means (real and fake halves).
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits, *, saturating: bool = False):
    """Generator loss on the discriminator's logits for fakes.

    saturating=True: the minimax loss (1/m) sum log(1 - D(G(z))) = -softplus(d) (mean), whose
    gradient vanishes when D confidently rejects the fakes (D(G(z)) -> 0).
    saturating=False (default): the non-saturating loss -(1/m) sum log D(G(z)) = softplus(-d),
    same fixed point, strong gradients exactly when the generator is losing.
    """
    if saturating:
        return -F.softplus(fake_logits).mean()
    return F.softplus(-fake_logits).mean()


# ---------------------------------------------------------------- training


def train_gan(
    G,
    D,
    sample_real,
    *,
    steps: int = 2000,
    batch_size: int = 128,
    lr: float = 2e-4,
    betas=(0.5, 0.999),
    d_steps: int = 1,
    saturating: bool = False,
    seed: int = 0,
    snapshot_every: int | None = None,
    snapshot=None,
) -> dict:
    """Alternate discriminator and generator updates (Goodfellow et al.'s Algorithm 1, with Adam).

    ``sample_real(n, generator)`` returns n real samples, or a pair (samples, labels) for a
    conditional GAN (fakes then get the same labels, so D judges "is this a real x of class y").
    Every ``snapshot_every`` steps (and at step 0) ``snapshot(step)`` is called and its result
    stored in ``history["snapshots"]`` as (step, result).
    Returns the history: ``d_loss``, ``g_loss`` per step, and the snapshots.
    """
    _check_positive_int("steps", steps)
    _check_positive_int("batch_size", batch_size)
    _check_positive_int("d_steps", d_steps)
    dev = next(G.parameters()).device
    gen = torch.Generator().manual_seed(seeded(seed))
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    hist = {"d_loss": [], "g_loss": [], "snapshots": []}

    def real_batch():
        out = sample_real(batch_size, gen)
        x, y = out if isinstance(out, tuple) else (out, None)
        return x.to(dev), None if y is None else y.to(dev)

    def noise():
        return torch.randn(batch_size, G.noise_dim, generator=gen).to(dev)

    for step in range(steps):
        if snapshot is not None and snapshot_every and step % snapshot_every == 0:
            hist["snapshots"].append((step, snapshot(step)))
        for _ in range(d_steps):
            x, y = real_batch()
            with torch.no_grad():
                fake = G(noise(), y)  # no gradient into G during D's update
            d_loss = discriminator_loss(D(x, y), D(fake, y))
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
        _, y = real_batch() if G.num_classes else (None, None)
        g_loss = generator_loss(D(G(noise(), y), y), saturating=saturating)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        hist["d_loss"].append(d_loss.item())
        hist["g_loss"].append(g_loss.item())
    if snapshot is not None and snapshot_every:
        hist["snapshots"].append((steps, snapshot(steps)))
    return hist


# ---------------------------------------------------------------- evaluation


def count_modes(samples, centers, *, radius: float, min_share: float = 0.02):
    """Which modes a set of 2-D samples covers, and how many samples are near any mode.

    A sample belongs to its nearest centre if it lies within ``radius`` of it (a "good" sample).
    A mode is covered when at least ``min_share`` of all samples belong to it.
    Returns (covered: bool tensor (K,), counts: int tensor (K,), good_fraction: float).
    """
    if samples.ndim != 2 or centers.ndim != 2 or samples.shape[1] != centers.shape[1]:
        raise ValueError(
            f"samples (N, d) and centers (K, d) must agree in d, got "
            f"{tuple(samples.shape)} and {tuple(centers.shape)}"
        )
    if radius <= 0 or not 0 < min_share < 1:
        raise ValueError(f"need radius > 0 and 0 < min_share < 1, got {radius}, {min_share}")
    samples, centers = samples.detach().cpu().float(), centers.detach().cpu().float()
    dist = torch.cdist(samples, centers)
    nearest = dist.argmin(dim=1)
    good = dist.min(dim=1).values <= radius
    counts = torch.bincount(nearest[good], minlength=len(centers))
    covered = counts >= min_share * len(samples)
    return covered, counts, good.float().mean().item()


@torch.no_grad()
def classifier_confidence(classifier, images):
    """Mean max-probability max_c softmax(f(x))_c of ``classifier`` over ``images`` and the labels.

    A crude "is it recognisable" score for generated images: a good classifier is confident on
    real digits. Returns (mean_confidence, predicted_labels).
    """
    was_training = classifier.training
    classifier.eval()
    dev = next(classifier.parameters()).device
    probs = F.softmax(classifier(images.to(dev)), dim=1)
    classifier.train(was_training)
    conf, labels = probs.max(dim=1)
    return conf.mean().item(), labels
