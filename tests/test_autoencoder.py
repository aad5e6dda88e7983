"""Autoencoder pieces checked against PyTorch / SciPy references."""

import pytest
import torch
import torch.nn.functional as F
from scipy.linalg import subspace_angles
from tolerances import assert_close
from torch import nn
from torch.distributions import Normal, kl_divergence

from course_lib.models import autoencoder as ae


def test_kl_closed_form_matches_torch_distributions():
    torch.manual_seed(0)
    mu, logvar = torch.randn(5, 3), torch.randn(5, 3)
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros(3), torch.ones(3))
    expected = kl_divergence(q, p).sum(dim=1)
    torch.testing.assert_close(ae.kl_standard_normal(mu, logvar), expected)


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    zeros = torch.zeros(2, 4)
    torch.testing.assert_close(ae.kl_standard_normal(zeros, zeros), torch.zeros(2))
    assert (ae.kl_standard_normal(zeros + 0.5, zeros) > 0).all()


def test_reparameterize_has_the_right_moments_and_gradients():
    mu = torch.full((200_000, 1), 1.5, requires_grad=True)
    logvar = torch.full((200_000, 1), 2 * torch.log(torch.tensor(0.5)).item(), requires_grad=True)
    torch.manual_seed(0)
    z = ae.reparameterize(mu, logvar)
    assert abs(z.mean().item() - 1.5) < 0.01 and abs(z.std().item() - 0.5) < 0.01
    z.sum().backward()
    torch.testing.assert_close(mu.grad, torch.ones_like(mu))
    eps = torch.tensor([[2.0]])
    torch.testing.assert_close(
        ae.reparameterize(torch.tensor([[1.0]]), torch.tensor([[0.0]]), eps), torch.tensor([[3.0]])
    )


def test_vae_loss_matches_bce_and_gaussian_log_likelihood():
    torch.manual_seed(0)
    logits, x = torch.randn(4, 6), torch.rand(4, 6)
    mu, logvar = torch.randn(4, 2), torch.randn(4, 2)
    loss, rec, kl = ae.vae_loss(logits, x, mu, logvar)
    expected = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / 4
    torch.testing.assert_close(rec, expected)
    torch.testing.assert_close(loss, rec + kl)
    _, rec_g, _ = ae.vae_loss(logits, x, mu, logvar, sigma=0.3)
    nll = -Normal(torch.sigmoid(logits), 0.3).log_prob(x).sum() / 4
    torch.testing.assert_close(rec_g, nll)


@pytest.mark.parametrize("k,s,p,op", [(3, 1, 0, 0), (3, 2, 1, 1), (5, 2, 2, 0), (4, 3, 1, 2)])
def test_conv_transpose_scatter_and_size_match_torch(k, s, p, op):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 5, 4)
    layer = nn.ConvTranspose2d(3, 2, k, stride=s, padding=p, output_padding=op, bias=False)
    expected = layer(x)
    assert_close(  # each output sums C_in x k x k products
        ae.conv_transpose2d_scatter(x, layer.weight, s, p, op), expected, ops=3 * k * k
    )
    assert expected.shape[2] == ae.conv_transpose_output_size(5, k, s, p, op)
    assert expected.shape[3] == ae.conv_transpose_output_size(4, k, s, p, op)


def test_conv_output_size_matches_torch():
    for i, k, s, p in [(8, 3, 2, 1), (7, 3, 2, 1), (64, 5, 1, 0), (10, 4, 3, 2)]:
        out = nn.Conv2d(1, 1, k, stride=s, padding=p)(torch.zeros(1, 1, i, i))
        assert out.shape[-1] == ae.conv_output_size(i, k, s, p)


def test_output_padding_must_be_smaller_than_stride():
    with pytest.raises(ValueError, match="output_padding"):
        ae.conv_transpose_output_size(4, 3, s=2, p=1, op=2)


def test_principal_angles_match_scipy():
    torch.manual_seed(0)
    A, B = torch.randn(10, 3), torch.randn(10, 2)
    expected = torch.tensor(
        sorted(subspace_angles(A.double().numpy(), B.double().numpy())), dtype=torch.float32
    )
    torch.testing.assert_close(ae.principal_angles(A, B), expected, atol=1e-5, rtol=1e-4)
    R = torch.randn(3, 3)
    assert ae.principal_angles(A, A @ R).max() < 1e-3  # same span, different basis


def test_pca_basis_matches_sklearn():
    from sklearn.decomposition import PCA

    torch.manual_seed(0)
    X = torch.randn(50, 6) @ torch.randn(6, 6)
    V = ae.pca_basis(X, 2)
    ref = torch.tensor(PCA(2).fit(X.numpy()).components_.T, dtype=torch.float32)
    assert ae.principal_angles(V, ref).max() < 1e-3


def test_corruptions():
    x = torch.full((1000, 64), 0.5)
    g = torch.Generator().manual_seed(0)
    sp = ae.salt_and_pepper(x, 0.2, generator=g)
    changed = sp != 0.5
    assert 0.17 < changed.float().mean() < 0.23
    assert set(sp[changed].unique().tolist()) == {0.0, 1.0}
    gn = ae.gaussian_noise(x, 0.1, generator=g)
    assert gn.min() >= 0 and gn.max() <= 1 and abs((gn - x).std().item() - 0.1) < 0.01
    with pytest.raises(ValueError, match="p must be"):
        ae.salt_and_pepper(x, 1.5)


def test_models_shapes_and_errors():
    x = torch.rand(3, 1, 8, 8)
    assert ae.ConvAutoencoder(5)(x).shape == x.shape
    assert ae.Autoencoder(64, 4)(x.reshape(3, 64)).shape == (3, 64)
    logits, mu, logvar = ae.VAE(64, 3)(x.reshape(3, 64))
    assert logits.shape == (3, 64) and mu.shape == logvar.shape == (3, 3)
    assert ae.VAE(64, 3).sample(7).shape == (7, 64)
    with pytest.raises(ValueError, match="linear autoencoder"):
        ae.Autoencoder(64, 4, hidden=(8,), linear=True)
    with pytest.raises(ValueError, match="8, 8"):
        ae.ConvAutoencoder(5)(torch.rand(3, 1, 16, 16))


def test_training_reduces_losses():
    torch.manual_seed(0)
    X = torch.rand(128, 16)
    model = ae.Autoencoder(16, 4, hidden=(32,))
    hist = ae.train_autoencoder(model, X, epochs=20, lr=1e-2)
    assert hist[-1] < hist[0]
    vae = ae.VAE(16, 2, hidden=(32,))
    h = ae.train_vae(vae, X, val=X, epochs=20, lr=1e-2, warmup=5)
    assert h["val_loss"][-1] < h["val_loss"][0]


def test_linear_probe_agrees_with_sklearn_logistic_regression():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))
    X, y = torch.tensor(X, dtype=torch.float32)[order], torch.tensor(y)[order]
    Xtr, ytr, Xte, yte = X[:100], y[:100], X[100:], y[100:]
    ours = ae.linear_probe(Xtr, ytr, Xte, yte, standardize=False, weight_decay=0.5 / 100)
    # sklearn minimises sum_i CE_i + ||W||^2 / (2C): the same objective as ours times N with C = 1
    ref = LogisticRegression(C=1.0, max_iter=5000).fit(Xtr.numpy(), ytr.numpy())
    assert abs(ours - ref.score(Xte.numpy(), yte.numpy())) <= 0.04
    with pytest.raises(ValueError, match="2-D"):
        ae.linear_probe(Xtr[:, :, None], ytr, Xte, yte)
