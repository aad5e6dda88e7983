"""Adversarial examples: FGSM, PGD, robust accuracy and adversarial training.

All attacks are white-box: they differentiate the model's loss with respect to its *input*.
Images are batches of shape (N, ...) whose pixels lie in a box ``[lo, hi]`` (default [0, 1]);
the threat model is the L-infinity ball ``||delta||_inf <= eps`` around each clean image.
Labels ``y`` are the true classes for an untargeted attack and the wanted classes for a
targeted one.
"""

import math

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .data.split import batches
from .device import device as default_device
from .device import seeded


# ----------------------------------------------------------------------------- input checks
def _check_eps(eps, name: str = "eps") -> float:
    if isinstance(eps, bool) or not isinstance(eps, int | float) or not math.isfinite(eps):
        raise TypeError(
            f"{name} must be a finite number (an L-inf radius in pixel units), got {eps!r}"
        )
    if eps < 0:
        raise ValueError(f"{name} must be >= 0 (an L-inf radius in pixel units), got {eps}")
    return float(eps)


def _check_box(box) -> tuple[float, float]:
    if not (isinstance(box, tuple | list) and len(box) == 2):
        raise TypeError(f"box must be a (low, high) pair of pixel bounds, got {box!r}")
    lo, hi = float(box[0]), float(box[1])
    if not lo < hi:
        raise ValueError(f"box must have low < high, got {box!r}")
    return lo, hi


def _check_batch(x, y, box) -> None:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(
            f"x must be a floating-point torch.Tensor of images, got {type(x).__name__}"
        )
    if x.ndim < 2:
        raise ValueError(
            f"x must be a batch of shape (N, ...) with N examples, got {tuple(x.shape)}"
        )
    if not isinstance(y, torch.Tensor) or y.dtype != torch.long or y.ndim != 1:
        raise ValueError("y must be a 1-D int64 tensor of class labels, one per image")
    if y.shape[0] != x.shape[0]:
        raise ValueError(
            f"x has {x.shape[0]} images but y has {y.shape[0]} labels; they must match"
        )
    lo, hi = box
    if x.numel() and (x.min() < lo - 1e-6 or x.max() > hi + 1e-6):
        raise ValueError(
            f"the pixels of x must lie in the box [{lo}, {hi}], "
            f"got values in [{x.min().item():.3g}, {x.max().item():.3g}]"
        )


# ----------------------------------------------------------------------------- building blocks
def input_gradient(model, x, y, loss_fn=F.cross_entropy) -> torch.Tensor:
    """Return g = d loss(f(x), y) / dx, the gradient of the loss with respect to the *input*.

    The model runs in eval mode (restored afterwards) and its parameters' ``.grad`` are left
    untouched: only x is differentiated.
    """
    was_training = model.training
    model.eval()
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():  # an attack also works inside a torch.no_grad() block
        loss = loss_fn(model(x), y)
        (grad,) = torch.autograd.grad(loss, x)
    model.train(was_training)
    return grad


def project_linf(x_adv, x, eps, box=(0.0, 1.0)) -> torch.Tensor:
    """Project x_adv onto {x' : ||x' - x||_inf <= eps} intersected with the pixel box.

    Both sets are boxes, so the projection is elementwise clipping:
    x' = clip(clip(x_adv, x - eps, x + eps), lo, hi).
    """
    eps = _check_eps(eps)
    lo, hi = _check_box(box)
    if x_adv.shape != x.shape:
        raise ValueError(f"x_adv {tuple(x_adv.shape)} and x {tuple(x.shape)} must have one shape")
    return torch.min(torch.max(x_adv, x - eps), x + eps).clamp(lo, hi)


# ----------------------------------------------------------------------------- attacks
def fgsm(model, x, y, eps, *, targeted: bool = False, box=(0.0, 1.0), loss_fn=F.cross_entropy):
    """Fast gradient sign method (Goodfellow et al. 2015), one step of size eps.

    untargeted: x_adv = clip(x + eps * sign(grad_x L(f(x), y)))         (y = true labels)
    targeted:   x_adv = clip(x - eps * sign(grad_x L(f(x), y_target)))  (y = target labels)
    where clip keeps the pixels in ``box``.
    """
    eps = _check_eps(eps)
    box = _check_box(box)
    _check_batch(x, y, box)
    step = eps * input_gradient(model, x, y, loss_fn).sign()
    x_adv = x.detach() - step if targeted else x.detach() + step
    return x_adv.clamp(*box)


def pgd(
    model,
    x,
    y,
    eps,
    *,
    alpha=None,
    steps: int = 10,
    targeted: bool = False,
    random_start: bool = True,
    box=(0.0, 1.0),
    loss_fn=F.cross_entropy,
    generator=None,
):
    """Projected gradient descent (Madry et al. 2018): iterated FGSM steps, each projected.

    x_0 = x (+ uniform noise in [-eps, eps] with ``random_start``), then for t = 0..steps-1:
    x_{t+1} = P(x_t + s * alpha * sign(grad_x L(f(x_t), y))), s = +1 (untargeted) or -1
    (targeted), and P the projection onto the eps-ball around x intersected with ``box``.
    The step ``alpha`` defaults to 2.5 * eps / steps. ``generator`` seeds the random start.
    """
    eps = _check_eps(eps)
    box = _check_box(box)
    _check_batch(x, y, box)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    alpha = 2.5 * eps / steps if alpha is None else _check_eps(alpha, "alpha")
    x = x.detach()
    x_adv = x.clone()
    if random_start and eps > 0:
        noise = torch.rand(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        x_adv = project_linf(x + eps * (2 * noise - 1), x, eps, box)
    sign = -1.0 if targeted else 1.0
    for _ in range(steps):
        grad = input_gradient(model, x_adv, y, loss_fn)
        x_adv = project_linf(x_adv + sign * alpha * grad.sign(), x, eps, box)
    return x_adv


# ----------------------------------------------------------------------------- evaluation
@torch.no_grad()
def predict(model, x, batch_size: int = 1024) -> torch.Tensor:
    """Predicted classes argmax_k f(x)_k in eval mode (the mode is restored afterwards)."""
    was_training = model.training
    model.eval()
    pred = torch.cat([model(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])
    model.train(was_training)
    return pred


def attack_batches(model, X, y, attack, *, batch_size: int = 512, **attack_kwargs):
    """Run ``attack(model, x, y, **attack_kwargs)`` over (X, y) in batches; return all x_adv."""
    if not callable(attack):
        raise TypeError(f"attack must be a function like fgsm or pgd, got {type(attack).__name__}")
    dev = next(model.parameters()).device
    return torch.cat(
        [
            attack(model, xb.to(dev), yb.to(dev), **attack_kwargs)
            for xb, yb in batches(X, y, batch_size)
        ]
    )


def robust_accuracy(model, X, y, attack=None, *, batch_size: int = 512, **attack_kwargs) -> float:
    """Accuracy on attacked inputs: (1/N) sum_i [argmax f(x_adv_i) = y_i].

    ``attack=None`` gives the clean accuracy. Each image is attacked with its true label, so
    the attack sees the model's weights (white-box) and the result is an upper bound on the
    accuracy against any stronger attack.
    """
    dev = next(model.parameters()).device
    X_eval = (
        X.to(dev)
        if attack is None
        else attack_batches(model, X, y, attack, batch_size=batch_size, **attack_kwargs)
    )
    return (predict(model, X_eval) == y.to(dev)).float().mean().item()


def success_rate(model, x_adv, target) -> float:
    """Targeted success: the fraction of x_adv classified as its target class."""
    return (predict(model, x_adv) == target.to(x_adv.device)).float().mean().item()


# ----------------------------------------------------------------------------- defence
def adversarial_fit(
    model,
    train_data,
    *,
    eps: float,
    attack=pgd,
    epochs: int = 10,
    lr: float = 1e-3,
    batch_size: int = 64,
    clean_weight: float = 0.5,
    seed: int = 0,
    device=None,
    progress: bool = True,
    **attack_kwargs,
) -> dict:
    """Adversarial training (Madry et al. 2018): minimise a loss on attacked mini-batches.

    Each step attacks the current model, x_adv = attack(model, x, y, eps), and minimises
    L = w * CE(f(x), y) + (1 - w) * CE(f(x_adv), y) with w = ``clean_weight`` (w = 0 is pure
    adversarial training), so the inner maximisation uses the weights being trained.
    Returns the history ``{"train_loss": [...]}`` (one mean loss per epoch).
    """
    eps = _check_eps(eps)
    if not 0.0 <= clean_weight <= 1.0:
        raise ValueError(f"clean_weight must lie in [0, 1], got {clean_weight}")
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    dev = torch.device(device) if device is not None else default_device()
    model.to(dev)
    X, y = (t.to(dev) for t in train_data)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seeded(seed))
    history = {"train_loss": []}
    for _ in tqdm(range(epochs), desc="adversarial epochs", disable=not progress, leave=False):
        total = 0.0
        for xb, yb in batches(X, y, batch_size, shuffle=True, generator=generator):
            x_adv = attack(model, xb, yb, eps, **attack_kwargs)
            model.train()
            loss = (1 - clean_weight) * F.cross_entropy(model(x_adv), yb)
            if clean_weight > 0:
                loss = loss + clean_weight * F.cross_entropy(model(xb), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        history["train_loss"].append(total / len(X))
    return history
