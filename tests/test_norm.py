"""From-scratch normalisation layers match torch.nn in training and evaluation mode."""

import pytest
import torch
from torch import nn

from course_lib.models.norm import BatchNorm1d, LayerNorm, RMSNorm


def _randomise(*modules):
    """Give both modules the same non-trivial affine parameters."""
    gen = torch.Generator().manual_seed(3)
    params = None
    for m in modules:
        if params is None:
            params = {n: torch.randn(p.shape, generator=gen) for n, p in m.named_parameters()}
        with torch.no_grad():
            for n, p in m.named_parameters():
                p.copy_(params[n])


@pytest.mark.parametrize("shape", [(16, 5), (8, 5, 7)])
def test_batchnorm_train_and_eval_match_torch(shape):
    ours, ref = BatchNorm1d(5, momentum=0.2), nn.BatchNorm1d(5, momentum=0.2)
    _randomise(ours, ref)
    gen = torch.Generator().manual_seed(0)
    for _ in range(4):  # several training batches update the running statistics
        x = 3 * torch.randn(shape, generator=gen) + 1
        torch.testing.assert_close(ours(x), ref(x))
    torch.testing.assert_close(ours.running_mean, ref.running_mean)
    torch.testing.assert_close(ours.running_var, ref.running_var)
    ours.eval(), ref.eval()
    x = torch.randn(shape, generator=gen)
    torch.testing.assert_close(ours(x), ref(x))
    # in eval mode one example alone gives the same output as inside the batch
    torch.testing.assert_close(ours(x[:1]), ours(x)[:1])


def test_batchnorm_gradients_match_torch():
    ours, ref = BatchNorm1d(4), nn.BatchNorm1d(4)
    _randomise(ours, ref)
    x = torch.randn(10, 4, requires_grad=True)
    x2 = x.detach().clone().requires_grad_(True)
    (ours(x) ** 3).sum().backward()
    (ref(x2) ** 3).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad)


def test_batchnorm_rejects_batch_of_one_in_training():
    with pytest.raises(ValueError, match="batch size"):
        BatchNorm1d(3)(torch.randn(1, 3))
    with pytest.raises(ValueError, match="expected input"):
        BatchNorm1d(3)(torch.randn(4, 2))


@pytest.mark.parametrize("normalized_shape", [6, (3, 6)])
def test_layernorm_matches_torch_in_both_modes(normalized_shape):
    ours, ref = LayerNorm(normalized_shape), nn.LayerNorm(normalized_shape)
    _randomise(ours, ref)
    x = 2 * torch.randn(4, 3, 6) - 1
    for mode in (True, False):
        ours.train(mode), ref.train(mode)
        torch.testing.assert_close(ours(x), ref(x))
    torch.testing.assert_close(ours(x[:1]), ours(x)[:1])  # independent of the batch


@pytest.mark.parametrize("eps", [None, 1e-6])
def test_rmsnorm_matches_torch(eps):
    ours, ref = RMSNorm(8, eps=eps), nn.RMSNorm(8, eps=eps)
    _randomise(ours, ref)
    x = torch.randn(5, 3, 8) * 0.01
    for mode in (True, False):
        ours.train(mode), ref.train(mode)
        torch.testing.assert_close(ours(x), ref(x))
    with pytest.raises(ValueError, match="end with"):
        ours(torch.randn(2, 7))
