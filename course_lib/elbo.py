"""The evidence lower bound on a latent-variable model whose posterior is known exactly.

The linear-Gaussian model (probabilistic PCA / factor analysis with isotropic noise)

    z ~ N(0, I_k),    x | z ~ N(W z + b, sigma^2 I_D)

has everything in closed form: the evidence p(x) = N(x; b, W W^T + sigma^2 I), the posterior
p(z | x) = N(mu_post, Sigma_post) and, for any Gaussian q(z) = N(m, S), the ELBO. So the identity

    log p(x) = ELBO(q) + KL(q || p(z | x))

can be checked to rounding error, which a VAE (whose posterior is intractable) never allows.
"""

import math
from dataclasses import dataclass

import torch

from .validation import check_int, check_positive, check_tensor


def _check_gaussian(name_mean, mean, name_cov, cov):
    mean = check_tensor(name_mean, mean, ndim=1)
    k = mean.shape[0]
    cov = check_tensor(name_cov, cov, shape=(k, k))
    return mean, cov


def gaussian_kl(m1, S1, m2, S2):
    """KL(N(m1, S1) || N(m2, S2)) for full k x k covariances:

    KL = 1/2 [ tr(S2^-1 S1) + (m2 - m1)^T S2^-1 (m2 - m1) - k + log det S2 - log det S1 ].
    """
    m1, S1 = _check_gaussian("m1", m1, "S1", S1)
    m2, S2 = _check_gaussian("m2", m2, "S2", S2)
    if m1.shape != m2.shape:
        raise ValueError(
            f"the two Gaussians must live in the same space, got means of shape "
            f"{tuple(m1.shape)} and {tuple(m2.shape)}"
        )
    L2 = torch.linalg.cholesky(S2)
    diff = (m2 - m1)[:, None]
    trace = torch.cholesky_solve(S1, L2).diagonal().sum()
    mahalanobis = (diff * torch.cholesky_solve(diff, L2)).sum()
    logdet2 = 2 * L2.diagonal().log().sum()
    logdet1 = torch.linalg.slogdet(S1)[1]
    return 0.5 * (trace + mahalanobis - len(m1) + logdet2 - logdet1)


@dataclass
class LinearGaussian:
    """z ~ N(0, I_k), x | z ~ N(W z + b, sigma^2 I_D); ``W`` is (D, k), ``b`` is (D,)."""

    W: torch.Tensor
    b: torch.Tensor
    sigma: float

    def __post_init__(self):
        self.W = check_tensor("W", self.W, ndim=2)
        self.b = check_tensor("b", self.b, shape=(self.W.shape[0],))
        check_positive("sigma", self.sigma)

    @property
    def latent_dim(self) -> int:
        return self.W.shape[1]

    def _check_x(self, x):
        return check_tensor("x", x, shape=(self.W.shape[0],))

    def log_evidence(self, x):
        """log p(x) with x ~ N(b, W W^T + sigma^2 I) (z integrated out)."""
        x = self._check_x(x)
        D = len(x)
        C = self.W @ self.W.T + self.sigma**2 * torch.eye(D, dtype=x.dtype, device=x.device)
        L = torch.linalg.cholesky(C)
        r = torch.linalg.solve_triangular(L, (x - self.b)[:, None], upper=False)
        return -0.5 * (D * math.log(2 * math.pi) + 2 * L.diagonal().log().sum() + r.pow(2).sum())

    def posterior(self, x):
        """p(z | x) = N(mu, Sigma) with Sigma = (I + W^T W / sigma^2)^-1 and
        mu = Sigma W^T (x - b) / sigma^2 (Bayes' rule for Gaussians)."""
        x = self._check_x(x)
        eye = torch.eye(self.latent_dim, dtype=x.dtype, device=x.device)
        precision = eye + self.W.T @ self.W / self.sigma**2
        cov = torch.linalg.inv(precision)
        return cov @ self.W.T @ (x - self.b) / self.sigma**2, cov

    def elbo(self, x, m, S):
        """ELBO(q) = E_q[log p(x | z)] - KL(q || p(z)) for q = N(m, S), in closed form:

        E_q[log p(x|z)] = -D/2 log(2 pi sigma^2) - (||x - W m - b||^2 + tr(W^T W S)) / (2 sigma^2)
        KL(q || N(0, I)) = 1/2 (tr S + ||m||^2 - k - log det S).
        """
        x = self._check_x(x)
        m, S = _check_gaussian("m", m, "S", S)
        if len(m) != self.latent_dim:
            raise ValueError(f"q must be over the {self.latent_dim} latents, got mean {len(m)}")
        D, s2 = len(x), self.sigma**2
        residual = (x - self.W @ m - self.b).pow(2).sum()
        spread = (self.W.T @ self.W * S).sum()  # tr(W^T W S), both symmetric
        expected_loglik = -0.5 * D * math.log(2 * math.pi * s2) - (residual + spread) / (2 * s2)
        k = self.latent_dim
        kl_prior = 0.5 * (S.trace() + m.pow(2).sum() - k - torch.linalg.slogdet(S)[1])
        return expected_loglik - kl_prior

    def elbo_monte_carlo(self, x, m, S, n: int, *, generator=None):
        """(mean, standard error) of log p(x | z) + log p(z) - log q(z) over n draws z ~ q."""
        x = self._check_x(x)
        m, S = _check_gaussian("m", m, "S", S)
        n = check_int("n", n, min_value=2)  # the standard error needs two draws
        L = torch.linalg.cholesky(S)
        eps = torch.randn(n, len(m), generator=generator, dtype=m.dtype).to(m.device)
        z = m + eps @ L.T
        mean = z @ self.W.T + self.b
        D, k = len(x), len(m)
        log_lik = -0.5 * ((x - mean).pow(2).sum(1) / self.sigma**2) - 0.5 * D * math.log(
            2 * math.pi * self.sigma**2
        )
        log_prior = -0.5 * z.pow(2).sum(1) - 0.5 * k * math.log(2 * math.pi)
        log_q = (
            -0.5 * eps.pow(2).sum(1) - L.diagonal().log().sum() - 0.5 * k * math.log(2 * math.pi)
        )
        terms = log_lik + log_prior - log_q
        return terms.mean(), terms.std() / math.sqrt(n)
