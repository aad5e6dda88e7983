"""Slices of a network's loss landscape along random directions (Li et al., 2018).

A slice is f(a, b) = L(theta* + a d1 + b d2) around trained weights theta*. Each direction is
*filter-normalised*: every row ("filter") of every weight matrix is rescaled to the norm of the
matching row of theta*, so the picture does not depend on the arbitrary scale of each layer.
"""

import torch
from torch.func import functional_call


def random_direction(model: torch.nn.Module, *, generator=None) -> dict:
    """A Gaussian direction shaped like ``model``'s parameters, filter-normalised.

    Biases and other 1-D parameters get a zero direction (as in Li et al.).
    """
    direction = {}
    for name, p in model.named_parameters():
        if p.ndim <= 1:
            direction[name] = torch.zeros_like(p)
            continue
        d = torch.randn(p.shape, generator=generator).to(p)
        rows_d = d.reshape(p.shape[0], -1)
        rows_p = p.detach().reshape(p.shape[0], -1)
        scale = rows_p.norm(dim=1, keepdim=True) / rows_d.norm(dim=1, keepdim=True).clamp(min=1e-12)
        direction[name] = (rows_d * scale).reshape(p.shape)
    return direction


@torch.no_grad()
def loss_slice(model, loss_fn, X, y, d1: dict, d2: dict | None, alphas, betas=None):
    """Loss at theta* + a d1 (+ b d2) for every a in ``alphas`` (and b in ``betas``).

    Returns a tensor of shape (len(alphas),) for a 1-D slice (``d2=None``) or
    (len(betas), len(alphas)) for a 2-D slice (rows follow b, as ``contour`` expects).
    """
    if (d2 is None) != (betas is None):
        raise ValueError("give both d2 and betas for a 2-D slice, or neither for a 1-D slice")
    base = {name: p.detach() for name, p in model.named_parameters()}
    missing = set(base) - set(d1)
    if missing:
        raise ValueError(f"direction d1 lacks parameters {sorted(missing)}")

    def loss_at(a, b):
        params = {n: base[n] + a * d1[n] + (b * d2[n] if d2 is not None else 0) for n in base}
        return loss_fn(functional_call(model, params, (X,)), y).item()

    if d2 is None:
        return torch.tensor([loss_at(float(a), 0.0) for a in alphas])
    return torch.tensor([[loss_at(float(a), float(b)) for a in alphas] for b in betas])
