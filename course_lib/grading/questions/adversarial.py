"""Visible checks for chapter 08 (adversarial examples)."""

import torch
import torch.nn.functional as F
from torch import nn

from ..checks import case


def _linear_model():
    """Two classes, four pixels: for label 0 the input gradient of the cross-entropy is
    p_1 (w_1 - w_0), so its sign is sign(w_1 - w_0) = (+, -, +, -)."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[0.0, 1.0, 0.0, 2.0], [1.0, 0.0, 3.0, 0.0]]))
        model[1].bias.zero_()
    return model


_SIGN = torch.tensor([1.0, -1.0, 1.0, -1.0]).reshape(1, 1, 2, 2)
_X = torch.full((1, 1, 2, 2), 0.5)


# ----------------------------------------------------------------------------- adversarial.fgsm
@case("adversarial.fgsm", hint="Return a tensor of the same shape as x.")
def fgsm_shape(fn):
    out = fn(_linear_model(), _X.clone(), torch.tensor([0]), 0.1)
    assert tuple(out.shape) == (1, 1, 2, 2), f"expected shape (1, 1, 2, 2), got {tuple(out.shape)}"


@case("adversarial.fgsm", hint="Step by eps * sign(gradient of the loss with respect to x).")
def fgsm_untargeted_direction(fn):
    out = fn(_linear_model(), _X.clone(), torch.tensor([0]), 0.1)
    assert torch.allclose(out, _X + 0.1 * _SIGN, atol=1e-6), (
        "x_adv - x is not eps times the sign of the input gradient"
    )


@case("adversarial.fgsm", hint="A targeted attack moves *down* the loss of the target class.")
def fgsm_targeted_direction(fn):
    out = fn(_linear_model(), _X.clone(), torch.tensor([0]), 0.1, targeted=True)
    assert torch.allclose(out, _X - 0.1 * _SIGN, atol=1e-6), "the targeted step has the wrong sign"


@case("adversarial.fgsm", hint="Clip the result into the pixel range [0, 1].")
def fgsm_stays_in_box(fn):
    x = torch.tensor([1.0, 1.0, 0.0, 0.0]).reshape(1, 1, 2, 2)
    out = fn(_linear_model(), x, torch.tensor([0]), 0.3)
    assert out.min() >= 0 and out.max() <= 1, "some pixels left [0, 1]"


@case("adversarial.fgsm", hint="Return a plain tensor: detach it from the autograd graph.")
def fgsm_returns_detached(fn):
    out = fn(_linear_model(), _X.clone(), torch.tensor([0]), 0.1)
    assert not out.requires_grad, "the result still requires grad"


# ----------------------------------------------------------------------------- adversarial.project
@case("adversarial.project", hint="Return a tensor of the same shape as x.")
def project_shape(fn):
    x = torch.rand(3, 1, 4, 4)
    out = fn(x + 0.5, x, 0.1)
    assert tuple(out.shape) == (3, 1, 4, 4), f"expected shape (3, 1, 4, 4), got {tuple(out.shape)}"


@case("adversarial.project", hint="Points already inside the ball and the box must not move.")
def project_keeps_inside_points(fn):
    x = torch.full((1, 1, 2, 2), 0.5)
    inside = x + torch.tensor([0.05, -0.05, 0.0, 0.09]).reshape(1, 1, 2, 2)
    assert torch.allclose(fn(inside, x, 0.1), inside), "a point inside the set was moved"


@case("adversarial.project", hint="Clip every pixel to [x - eps, x + eps].")
def project_clips_to_ball(fn):
    x = torch.full((1, 1, 2, 2), 0.5)
    far = x + torch.tensor([0.3, -0.3, 0.0, 0.2]).reshape(1, 1, 2, 2)
    expected = torch.tensor([0.6, 0.4, 0.5, 0.6]).reshape(1, 1, 2, 2)
    assert torch.allclose(fn(far, x, 0.1), expected), "the result is not inside the eps-ball"


@case("adversarial.project", hint="After the ball, clip to the pixel range [0, 1] as well.")
def project_clips_to_box(fn):
    x = torch.tensor([0.95, 0.05, 0.5, 1.0]).reshape(1, 1, 2, 2)
    far = x + torch.tensor([0.5, -0.5, 0.0, 0.5]).reshape(1, 1, 2, 2)
    out = fn(far, x, 0.1)
    assert out.min() >= 0 and out.max() <= 1, "some pixels left [0, 1]"
    assert (out - x).abs().max() <= 0.1 + 1e-6, "some pixels left the eps-ball"


# ----------------------------------------------------------------------------- adversarial.pgd_step
@case("adversarial.pgd_step", hint="Return a tensor of the same shape as x.")
def pgd_step_shape(fn):
    out = fn(_linear_model(), _X.clone(), _X.clone(), torch.tensor([0]), 0.1, 0.05)
    assert tuple(out.shape) == (1, 1, 2, 2), f"expected shape (1, 1, 2, 2), got {tuple(out.shape)}"


@case("adversarial.pgd_step", hint="Take the gradient at x_adv and step by alpha * its sign.")
def pgd_step_direction(fn):
    out = fn(_linear_model(), _X.clone(), _X.clone(), torch.tensor([0]), 0.1, 0.05)
    assert torch.allclose(out, _X + 0.05 * _SIGN, atol=1e-6), "the step is not alpha * sign(grad)"


@case("adversarial.pgd_step", hint="Project onto the eps-ball around the *clean* x, not x_adv.")
def pgd_step_projects_around_clean(fn):
    x_adv = _X + 0.08 * _SIGN  # already near the edge of the ball
    out = fn(_linear_model(), x_adv, _X.clone(), torch.tensor([0]), 0.1, 0.05)
    assert torch.allclose(out, _X + 0.1 * _SIGN, atol=1e-6), "the step left the eps-ball around x"


@case("adversarial.pgd_step", hint="The step must increase the loss of the true label.")
def pgd_step_increases_loss(fn):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3))
    x = torch.rand(20, 1, 4, 4) * 0.6 + 0.2
    y = torch.randint(3, (20,))
    out = fn(model, x.clone(), x.clone(), y, 0.05, 0.02)
    with torch.no_grad():
        assert F.cross_entropy(model(out), y) > F.cross_entropy(model(x), y), "loss went down"
