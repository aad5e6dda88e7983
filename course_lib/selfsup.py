"""Learning features without labels: contrastive (SimCLR-style) pretraining and greedy
layer-wise pretraining of a deep network as stacked autoencoders.

Contrastive learning: two random augmentations of each image (two *views*) are embedded by
the same encoder f and a small projection head g; the NT-Xent loss asks each view to pick its
partner out of all the other views in the batch. Greedy layer-wise pretraining: train layer 1
as an autoencoder of the input, layer 2 as an autoencoder of layer 1's codes, and so on.
"""

import torch
import torch.nn.functional as F
from torch import nn

from .device import seeded
from .models.autoencoder import mlp
from .validation import check_int, check_positive, check_tensor


def augment(x, *, generator=None, shift: float = 1.0, rotation: float = 15.0, noise: float = 0.1):
    """A random view of each image in ``x`` (N, C, H, W), drawn independently per image:

    a rotation by an angle uniform in +-``rotation`` degrees and a shift uniform in
    +-``shift`` pixels (one affine resampling, bilinear, zeros outside), then additive Gaussian
    noise of standard deviation ``noise``, clipped to [0, 1].
    """
    x = check_tensor("x", x, ndim=4, dtype="floating")
    for name, v in (("shift", shift), ("rotation", rotation), ("noise", noise)):
        check_positive(name, v, allow_zero=True)
    n, _, h, w = x.shape

    def uniform(*shape):
        return 2 * torch.rand(*shape, generator=generator, dtype=x.dtype) - 1

    angle = torch.deg2rad(torch.tensor(rotation, dtype=x.dtype)) * uniform(n)
    # affine_grid works in [-1, 1] coordinates, where one pixel is 2 / size
    t = uniform(n, 2) * shift * torch.tensor([2 / w, 2 / h], dtype=x.dtype)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack(
        [torch.stack([cos, -sin, t[:, 0]], -1), torch.stack([sin, cos, t[:, 1]], -1)], 1
    ).to(x.device)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, align_corners=False)
    eps = torch.randn(out.shape, generator=generator, dtype=x.dtype).to(x.device)
    return (out + noise * eps).clamp(0.0, 1.0)


def nt_xent(z1, z2, temperature: float = 0.5):
    """The NT-Xent (normalised temperature-scaled cross-entropy) loss of SimCLR.

    With u_1..u_2N the L2-normalised rows of [z1; z2] and s_ij = u_i . u_j / temperature, view i
    and its partner p(i) (the other view of the same image) give

        loss = 1/(2N) sum_i -log( exp(s_i,p(i)) / sum_{j != i} exp(s_ij) ),

    a 2N - 1-way classification of the partner among all the other views.
    """
    z1 = check_tensor("z1", z1, ndim=2, dtype="floating")
    z2 = check_tensor("z2", z2, shape=tuple(z1.shape))
    check_positive("temperature", temperature)
    n = len(z1)
    if n < 2:
        raise ValueError(f"NT-Xent needs at least 2 images per batch (negatives), got {n}")
    u = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = u @ u.T / temperature
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=u.device)
    sim = sim.masked_fill(self_mask, float("-inf"))  # a view is not its own candidate
    partner = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(u.device)
    return F.cross_entropy(sim, partner)


class ContrastiveModel(nn.Module):
    """Encoder f (whose output is the representation) and projection head g (for the loss).

    SimCLR computes the loss on g(f(x)) but uses f(x) downstream: the head can discard what the
    augmentations change, and the representation before it keeps more.
    """

    def __init__(self, encoder: nn.Module, feature_dim: int, projection_dim: int = 32):
        super().__init__()
        check_int("feature_dim", feature_dim, min_value=1)
        check_int("projection_dim", projection_dim, min_value=1)
        self.encoder = encoder
        self.head = nn.Sequential(
            nn.Linear(feature_dim, feature_dim), nn.ReLU(), nn.Linear(feature_dim, projection_dim)
        )

    def forward(self, x):
        return self.head(self.encoder(x))


def train_contrastive(
    model,
    X,
    *,
    epochs: int = 30,
    batch_size: int = 256,
    lr: float = 2e-3,
    temperature: float = 0.5,
    seed: int = 0,
    **augment_kwargs,
) -> list:
    """Minimise ``nt_xent`` between two ``augment`` views of each mini-batch with Adam.

    No labels are used. Returns the mean loss per epoch.
    """
    X = check_tensor("X", X, ndim=4, dtype="floating")
    check_int("epochs", epochs, min_value=1)
    check_int("batch_size", batch_size, min_value=2)
    dev = next(model.parameters()).device
    X = X.to(dev)
    gen = torch.Generator().manual_seed(seeded(seed))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=gen).to(dev)
        total, count = 0.0, 0
        for start in range(0, len(X) - 1, batch_size):
            xb = X[order[start : start + batch_size]]
            if len(xb) < 2:
                continue
            v1 = augment(xb, generator=gen, **augment_kwargs)
            v2 = augment(xb, generator=gen, **augment_kwargs)
            loss = nt_xent(model(v1), model(v2), temperature)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total, count = total + loss.item() * len(xb), count + len(xb)
        history.append(total / count)
    model.eval()
    return history


# ---------------------------------------------------------------- greedy layer-wise pretraining


def deep_mlp(sizes, *, activation=nn.Sigmoid) -> nn.Sequential:
    """Chapter 09's ``mlp`` with ``activation`` (default sigmoid) after each hidden layer and
    logits out: a 2006-style deep net."""
    return mlp(sizes, activation=activation)


def pretrain_layerwise(
    net: nn.Sequential,
    X,
    *,
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
) -> list:
    """Greedy layer-wise pretraining of the hidden layers of ``net`` (built by ``deep_mlp``).

    Hidden layer l (a Linear followed by its activation, h_l = a(W_l h_{l-1} + b_l)) is trained
    as a one-layer autoencoder of h_{l-1}, with its own throw-away decoder
    h_hat_{l-1} = sigmoid(W'_l h_l + b'_l), minimising the binary cross-entropy
    -mean[h log h_hat + (1 - h) log(1 - h_hat)] (inputs and sigmoid codes lie in [0, 1]); the
    layers below it are frozen and only compute its input. The output layer is left untouched.
    Returns the final reconstruction loss of each layer.
    """
    X = check_tensor("X", X, ndim=2, dtype="floating")
    check_int("epochs", epochs, min_value=1)
    modules = list(net)
    pairs = [(modules[i], modules[i + 1]) for i in range(0, len(modules) - 1, 2)]
    gen = torch.Generator().manual_seed(seeded(seed))
    h = X
    losses = []
    for linear, act in pairs:
        decoder = nn.Linear(linear.out_features, linear.in_features).to(h.device)
        opt = torch.optim.Adam([*linear.parameters(), *decoder.parameters()], lr=lr)
        for _ in range(epochs):
            order = torch.randperm(len(h), generator=gen).to(h.device)
            for start in range(0, len(h), batch_size):
                hb = h[order[start : start + batch_size]]
                loss = F.binary_cross_entropy_with_logits(decoder(act(linear(hb))), hb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        with torch.no_grad():
            losses.append(F.binary_cross_entropy_with_logits(decoder(act(linear(h))), h).item())
            h = act(linear(h))
    return losses


__all__ = [
    "augment",
    "nt_xent",
    "ContrastiveModel",
    "train_contrastive",
    "deep_mlp",
    "pretrain_layerwise",
]
