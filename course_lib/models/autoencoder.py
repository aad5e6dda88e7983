"""Autoencoders: fully connected, convolutional and variational, plus their loss pieces.

An autoencoder is a pair encoder f: x -> z (the code) and decoder g: z -> x_hat, trained so that
x_hat = g(f(x)) reconstructs x through a bottleneck (dim z < dim x).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..device import seeded


def _check_positive_int(name, value):
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def mlp(sizes, *, activation=nn.ReLU, final_activation=None) -> nn.Sequential:
    """Linear layers between consecutive ``sizes``, ``activation`` between (not after) them."""
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size, got {sizes}")
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(activation())
    if final_activation is not None:
        layers.append(final_activation())
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """Fully connected autoencoder in_dim -> hidden... -> code_dim -> ...hidden -> in_dim.

    With ``hidden=()`` and ``linear=True`` it is the linear autoencoder
    x_hat = W_d (W_e x + b_e) + b_d,
    whose optimum under the squared error spans the top-``code_dim`` principal subspace.
    Otherwise the hidden layers use ReLU and the output a sigmoid (pixels in [0, 1]).
    """

    def __init__(self, in_dim: int = 64, code_dim: int = 8, hidden=(64,), *, linear: bool = False):
        super().__init__()
        _check_positive_int("in_dim", in_dim)
        _check_positive_int("code_dim", code_dim)
        hidden = tuple(hidden)
        if linear and hidden:
            raise ValueError(f"a linear autoencoder has no hidden layers; got hidden={hidden}")
        act = nn.Identity if linear else nn.ReLU
        self.encoder = mlp((in_dim, *hidden, code_dim), activation=act)
        self.decoder = mlp(
            (code_dim, *hidden[::-1], in_dim),
            activation=act,
            final_activation=None if linear else nn.Sigmoid,
        )
        self.in_dim, self.code_dim = in_dim, code_dim

    def encode(self, x):
        return self.encoder(x.reshape(len(x), -1))

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        if x[0].numel() != self.in_dim:
            raise ValueError(
                f"expected inputs with {self.in_dim} values each, got {tuple(x.shape)}"
            )
        return self.decode(self.encode(x)).reshape(x.shape)


class ConvAutoencoder(nn.Module):
    """Convolutional autoencoder for 1 x 8 x 8 images.

    Encoder: conv(3, stride 2) 8 -> 4, conv(3, stride 2) 4 -> 2, flatten, linear -> code.
    Decoder: linear, reshape, transposed conv 2 -> 4 -> 8 (kernel 3, stride 2, padding 1,
    output_padding 1: o = (i - 1) s - 2p + k + op = 2i), sigmoid.
    """

    def __init__(self, code_dim: int = 10, width: int = 16):
        super().__init__()
        _check_positive_int("code_dim", code_dim)
        _check_positive_int("width", width)
        w = width
        self.encoder = nn.Sequential(
            nn.Conv2d(1, w, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(2 * w * 2 * 2, code_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(code_dim, 2 * w * 2 * 2),
            nn.ReLU(),
            nn.Unflatten(1, (2 * w, 2, 2)),
            nn.ConvTranspose2d(2 * w, w, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(w, 1, 3, stride=2, padding=1, output_padding=1),
            nn.Sigmoid(),
        )
        self.code_dim = code_dim

    def encode(self, x):
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 8, 8):
            raise ValueError(f"expected images of shape (N, 1, 8, 8), got {tuple(x.shape)}")
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))


def conv_output_size(i: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """Output length of a convolution: o = floor((i + 2p - d (k - 1) - 1) / s) + 1."""
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


def conv_transpose_output_size(
    i: int, k: int, s: int = 1, p: int = 0, op: int = 0, d: int = 1
) -> int:
    """Output length of a transposed convolution: o = (i - 1) s - 2p + d (k - 1) + op + 1.

    ``op`` (output_padding) must be smaller than ``s`` or ``d``: it only picks which of the
    several input sizes that a stride-s convolution maps to ``i`` is meant.
    """
    for name, v in (("i", i), ("k", k), ("s", s), ("d", d)):
        _check_positive_int(name, v)
    if p < 0 or op < 0:
        raise ValueError(f"padding and output_padding must be >= 0, got p={p}, op={op}")
    if op >= max(s, d):
        raise ValueError(
            f"output_padding op={op} must be smaller than stride s={s} or dilation d={d}"
        )
    return (i - 1) * s - 2 * p + d * (k - 1) + op + 1


def conv_transpose2d_scatter(x, weight, stride: int = 1, padding: int = 0, output_padding: int = 0):
    """Transposed convolution written as scatter-add (no groups, no dilation, no bias).

    Each input pixel x[n, c, i, j] adds x[n, c, i, j] * weight[c, :, :, :] into the output window
    whose top-left corner is (i s, j s); overlapping windows sum. Finally ``padding`` rows and
    columns are cropped from every border. ``weight`` has shape (C_in, C_out, k, k), as in
    ``nn.ConvTranspose2d``.
    """
    if x.ndim != 4 or weight.ndim != 4 or x.shape[1] != weight.shape[0]:
        raise ValueError(
            f"need x (N, C_in, H, W) and weight (C_in, C_out, k, k) with matching "
            f"C_in; got {tuple(x.shape)} and {tuple(weight.shape)}"
        )
    n, _, h, w = x.shape
    c_out, k = weight.shape[1], weight.shape[2]
    full_h, full_w = (h - 1) * stride + k + output_padding, (w - 1) * stride + k + output_padding
    out = x.new_zeros(n, c_out, full_h, full_w)
    for i in range(h):
        for j in range(w):
            # (N, C_in) x (C_in, C_out, k, k) -> (N, C_out, k, k): one stamped kernel per pixel
            stamp = torch.einsum("nc,cokl->nokl", x[:, :, i, j], weight)
            out[:, :, i * stride : i * stride + k, j * stride : j * stride + k] += stamp
    return out[:, :, padding : full_h - padding, padding : full_w - padding]


# ---------------------------------------------------------------- corruptions (denoising AE)


def gaussian_noise(x, std: float, *, generator=None):
    """Additive Gaussian noise, clipped back to the pixel range: clamp(x + std * eps, 0, 1)."""
    if std < 0:
        raise ValueError(f"std must be >= 0, got {std}")
    eps = torch.randn(x.shape, generator=generator).to(x.device)
    return (x + std * eps).clamp(0.0, 1.0)


def salt_and_pepper(x, p: float, *, generator=None):
    """Impulse noise: with probability ``p`` a pixel becomes 0 (pepper) or 1 (salt), 50/50."""
    if not 0 <= p <= 1:
        raise ValueError(f"p must be a probability in [0, 1], got {p}")
    u = torch.rand(x.shape, generator=generator).to(x.device)
    out = x.clone()
    out[u < p / 2] = 0.0
    out[(u >= p / 2) & (u < p)] = 1.0
    return out


# ---------------------------------------------------------------- variational autoencoder


def reparameterize(mu, logvar, eps=None):
    """z = mu + sigma * eps with sigma = exp(logvar / 2) and eps ~ N(0, I).

    The randomness sits in ``eps``, so z is a differentiable function of mu and logvar.
    """
    if mu.shape != logvar.shape:
        raise ValueError(
            f"mu and logvar must have the same shape, got {tuple(mu.shape)} "
            f"and {tuple(logvar.shape)}"
        )
    if eps is None:
        eps = torch.randn_like(mu)
    return mu + torch.exp(0.5 * logvar) * eps


def kl_standard_normal(mu, logvar):
    """KL(N(mu, diag sigma^2) || N(0, I)) per example, summed over the latent dimensions:

    KL = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2).
    """
    if mu.shape != logvar.shape:
        raise ValueError(
            f"mu and logvar must have the same shape, got {tuple(mu.shape)} "
            f"and {tuple(logvar.shape)}"
        )
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def vae_loss(x_logits, x, mu, logvar, *, beta: float = 1.0, sigma: float | None = None):
    """Negative ELBO averaged over the batch, and its two parts (means over the batch):

    -ELBO = E_q[-log p(x|z)] + beta KL(q(z|x) || N(0, I)), estimated with one sample of z.

    ``sigma=None``: Bernoulli decoder, -log p(x|z) = binary cross-entropy summed over the pixels.
    ``sigma`` > 0: Gaussian decoder with mean sigmoid(x_logits) and fixed standard deviation sigma,
    -log p(x|z) = sum_p (x_p - m_p)^2 / (2 sigma^2) + (D/2) log(2 pi sigma^2).
    Returns (loss, reconstruction, kl).
    """
    if x_logits.shape != x.shape:
        raise ValueError(f"x_logits {tuple(x_logits.shape)} and x {tuple(x.shape)} must match")
    if sigma is None:
        rec = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none")
    else:
        if sigma <= 0:
            raise ValueError(f"sigma must be > 0 (or None for a Bernoulli decoder), got {sigma}")
        sq = (x - torch.sigmoid(x_logits)) ** 2
        rec = sq / (2 * sigma**2) + 0.5 * math.log(2 * math.pi * sigma**2)
    rec = rec.reshape(len(x), -1).sum(dim=1).mean()
    kl = kl_standard_normal(mu, logvar).mean()
    return rec + beta * kl, rec, kl


class VAE(nn.Module):
    """Variational autoencoder with a Gaussian encoder q(z|x) = N(mu(x), diag sigma^2(x)),
    a standard normal prior p(z) = N(0, I) and a Bernoulli decoder p(x|z) with logits g(z).

    ``forward`` returns (x_logits, mu, logvar); the decoder outputs logits so that the loss can
    use the numerically stable ``binary_cross_entropy_with_logits``.
    """

    def __init__(self, in_dim: int = 64, latent_dim: int = 2, hidden=(128, 64)):
        super().__init__()
        _check_positive_int("in_dim", in_dim)
        _check_positive_int("latent_dim", latent_dim)
        hidden = tuple(hidden)
        self.body = mlp((in_dim, *hidden), final_activation=nn.ReLU) if hidden else nn.Identity()
        last = hidden[-1] if hidden else in_dim
        self.to_mu = nn.Linear(last, latent_dim)
        self.to_logvar = nn.Linear(last, latent_dim)
        self.decoder = mlp((latent_dim, *hidden[::-1], in_dim))
        self.in_dim, self.latent_dim = in_dim, latent_dim

    def encode(self, x):
        h = self.body(x.reshape(len(x), -1))
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z):
        """Decoder logits; use ``torch.sigmoid`` for pixel means."""
        return self.decoder(z)

    def forward(self, x):
        if x[0].numel() != self.in_dim:
            raise ValueError(
                f"expected inputs with {self.in_dim} values each, got {tuple(x.shape)}"
            )
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar)
        return self.decode(z).reshape(x.shape), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, *, generator=None):
        """Draw z ~ N(0, I) and return the decoded pixel means sigmoid(g(z)), shape (n, in_dim)."""
        _check_positive_int("n", n)
        dev = self.to_mu.weight.device
        z = torch.randn(n, self.latent_dim, generator=generator).to(dev)
        return torch.sigmoid(self.decode(z))


# ---------------------------------------------------------------- subspaces (linear AE vs PCA)


def principal_angles(A, B):
    """Principal angles (radians, ascending) between the column spaces of A (n, k) and B (n, l).

    With orthonormal bases Q_A, Q_B, the cosines of the angles are the singular values of
    Q_A^T Q_B. Angle 0 means a shared direction; all zeros means the same subspace.
    """
    if A.ndim != 2 or B.ndim != 2 or A.shape[0] != B.shape[0]:
        raise ValueError(
            f"A and B must be matrices with the same number of rows, got "
            f"{tuple(A.shape)} and {tuple(B.shape)}"
        )
    qa, _ = torch.linalg.qr(A.double())
    qb, _ = torch.linalg.qr(B.double())
    cos = torch.linalg.svdvals(qa.T @ qb).clamp(-1.0, 1.0)
    return torch.sort(torch.arccos(cos))[0].to(_result_dtype(A, B))


def _result_dtype(*tensors):
    """float64 when an input is float64, else float32 (computed in float64 either way)."""
    return torch.float64 if any(t.dtype == torch.float64 for t in tensors) else torch.float32


def pca_basis(X, k: int):
    """Top-k principal directions of the (centred) rows of X, as columns of a (d, k) matrix."""
    _check_positive_int("k", k)
    if X.ndim != 2 or k > X.shape[1]:
        raise ValueError(f"X must be (N, d) with d >= k={k}, got {tuple(X.shape)}")
    Xc = X - X.mean(dim=0)
    _, _, Vh = torch.linalg.svd(Xc.double(), full_matrices=False)
    return Vh[:k].T.to(_result_dtype(X))


def pca_reconstruction_error(X, k: int) -> float:
    """Mean squared error (per pixel) of projecting the centred rows of X on the top-k subspace."""
    V = pca_basis(X, k).to(X.dtype)
    mean = X.mean(dim=0)
    Xc = X - mean
    return ((Xc - Xc @ V @ V.T) ** 2).mean().item()


# ---------------------------------------------------------------- training loops


def _batches_of(X, batch_size, generator):
    order = torch.randperm(len(X), generator=generator).to(X.device)
    for start in range(0, len(X), batch_size):
        yield X[order[start : start + batch_size]]


def train_autoencoder(
    model,
    X,
    *,
    epochs: int = 50,
    lr: float = 1e-3,
    batch_size: int = 64,
    corrupt=None,
    seed: int = 0,
) -> list:
    """Minimise the mean squared reconstruction error (1/N) sum_i ||g(f(c(x_i))) - x_i||^2.

    ``corrupt`` is an optional function c(x) applied to every mini-batch (a fresh corruption each
    time): with it the model is a denoising autoencoder, whose target is still the clean x.
    Returns the mean training loss per epoch.
    """
    _check_positive_int("epochs", epochs)
    _check_positive_int("batch_size", batch_size)
    dev = next(model.parameters()).device
    X = X.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seeded(seed))
    history = []
    model.train()
    for _ in range(epochs):
        total = 0.0
        for xb in _batches_of(X, batch_size, gen):
            inp = corrupt(xb) if corrupt is not None else xb
            loss = F.mse_loss(model(inp), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        history.append(total / len(X))
    model.eval()
    return history


@torch.no_grad()
def negative_elbo(model, X, *, beta: float = 1.0, sigma: float | None = None, seed: int = 0):
    """Mean -ELBO (and its reconstruction and KL parts) of ``model`` on X, one z sample each."""
    was_training = model.training
    model.eval()
    torch.manual_seed(seeded(seed))
    logits, mu, logvar = model(X)
    loss, rec, kl = vae_loss(logits, X, mu, logvar, beta=beta, sigma=sigma)
    model.train(was_training)
    return loss.item(), rec.item(), kl.item()


def train_vae(
    model,
    X,
    *,
    val=None,
    epochs: int = 50,
    lr: float = 1e-3,
    batch_size: int = 64,
    beta: float = 1.0,
    sigma: float | None = None,
    warmup: int = 0,
    seed: int = 0,
) -> dict:
    """Maximise the ELBO (minimise ``vae_loss``) with Adam; return the per-epoch history.

    With ``warmup`` > 0 the KL weight grows linearly from 0 to ``beta`` over the first ``warmup``
    epochs (KL annealing): the decoder first learns to use z, which keeps the posterior from
    collapsing onto the prior early on. The reported losses always use the full ``beta``.

    The history holds ``train_loss``, ``train_rec``, ``train_kl`` (means over the epoch) and, with
    ``val``, ``val_loss`` (the -ELBO on the validation images after each epoch).
    """
    _check_positive_int("epochs", epochs)
    dev = next(model.parameters()).device
    X = X.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seeded(seed))
    hist = {"train_loss": [], "train_rec": [], "train_kl": []}
    if val is not None:
        hist["val_loss"] = []
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0 epochs, got {warmup}")
    for epoch in range(epochs):
        model.train()
        weight = beta * min(1.0, (epoch + 1) / warmup) if warmup else beta
        sums = torch.zeros(3)
        for xb in _batches_of(X, batch_size, gen):
            logits, mu, logvar = model(xb)
            loss, rec, kl = vae_loss(logits, xb, mu, logvar, beta=beta, sigma=sigma)
            opt.zero_grad(set_to_none=True)
            (rec + weight * kl).backward()
            opt.step()
            sums += torch.tensor([loss.item(), rec.item(), kl.item()]) * len(xb)
        for key, value in zip(("train_loss", "train_rec", "train_kl"), sums / len(X), strict=True):
            hist[key].append(value.item())
        if val is not None:
            val_loss = negative_elbo(model, val.to(dev), beta=beta, sigma=sigma, seed=epoch)[0]
            hist["val_loss"].append(val_loss)
    model.eval()
    return hist


# ---------------------------------------------------------------- evaluating learned features


def linear_probe(
    train_features,
    train_labels,
    test_features,
    test_labels,
    *,
    standardize: bool = True,
    weight_decay: float = 1e-3,
    max_iter: int = 200,
) -> float:
    """Test accuracy of a multinomial logistic regression fitted on frozen features.

    With ``standardize`` the features are first scaled with the training mean and standard
    deviation (each feature then counts equally in the weight penalty); the weights W, b
    minimise (1/N) sum_i CE(W f_i + b, y_i) + weight_decay * ||W||^2 with full-batch L-BFGS.
    """
    if train_features.ndim != 2 or test_features.ndim != 2:
        raise ValueError("features must be 2-D (N, F) tensors; flatten them first")
    if train_features.shape[1] != test_features.shape[1]:
        raise ValueError(
            f"train and test features differ in width: {train_features.shape[1]} "
            f"vs {test_features.shape[1]}"
        )
    ftr, fte = train_features, test_features
    if standardize:
        mean, std = ftr.mean(0), ftr.std(0) + 1e-6
        ftr, fte = (ftr - mean) / std, (fte - mean) / std
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    head = nn.Linear(ftr.shape[1], num_classes).to(ftr.device)
    opt = torch.optim.LBFGS(
        head.parameters(), lr=1, max_iter=max_iter, line_search_fn="strong_wolfe"
    )

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(head(ftr), train_labels) + weight_decay * head.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return (head(fte).argmax(1) == test_labels).float().mean().item()
