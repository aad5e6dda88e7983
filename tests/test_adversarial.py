"""FGSM, PGD, the L-inf projection and adversarial training against hand-computed references."""

import pytest
import torch
import torch.nn.functional as F
from tolerances import allclose

from course_lib import device, fit, set_seed
from course_lib.adversarial import (
    adversarial_fit,
    attack_batches,
    fgsm,
    input_gradient,
    pgd,
    predict,
    project_linf,
    robust_accuracy,
    success_rate,
)
from course_lib.data import load_digits
from course_lib.models.cnn import SmallCNN

DEV = device()


def _model_and_batch(n=16, seed=0):
    set_seed(seed)
    model = SmallCNN(width=8, hidden=16).to(DEV)
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 8, 8, generator=g).to(DEV)
    y = torch.randint(10, (n,), generator=g).to(DEV)
    return model, x, y


def _reference_grad(model, x, y):
    """The input gradient by hand: autograd of the mean cross-entropy with respect to x."""
    x = x.clone().requires_grad_(True)
    loss = F.cross_entropy(model(x), y)
    return torch.autograd.grad(loss, x)[0]


def test_input_gradient_matches_autograd_and_leaves_parameters_alone():
    model, x, y = _model_and_batch()
    model.train()
    grad = input_gradient(model, x, y)
    assert allclose(grad, _reference_grad(model.eval(), x, y), ops=64)
    assert all(p.grad is None for p in model.parameters())
    model.train()
    input_gradient(model, x, y)
    assert model.training, "the model's mode must be restored"


def test_fgsm_equals_eps_sign_grad_inside_the_box():
    model, x, y = _model_and_batch()
    x = x * 0.6 + 0.2  # pixels in [0.2, 0.8]: an eps of 0.1 never reaches the box
    eps = 0.1
    x_adv = fgsm(model, x, y, eps)
    expected = x + eps * _reference_grad(model, x, y).sign()
    assert torch.allclose(x_adv, expected, atol=1e-6)
    assert torch.allclose((x_adv - x).abs(), torch.full_like(x, eps), atol=1e-6)


def test_fgsm_targeted_steps_down_the_target_loss():
    model, x, y = _model_and_batch()
    x = x * 0.6 + 0.2
    x_adv = fgsm(model, x, y, 0.1, targeted=True)
    assert torch.allclose(x_adv, x - 0.1 * _reference_grad(model, x, y).sign(), atol=1e-6)


def test_fgsm_stays_in_the_pixel_box():
    model, x, y = _model_and_batch()
    x_adv = fgsm(model, x, y, 0.3)
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    assert (x_adv - x).abs().max() <= 0.3 + 1e-6
    assert torch.equal(fgsm(model, x, y, 0.0), x)


def test_project_linf_is_the_elementwise_clip():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, 1, 8, 8, generator=g)
    z = x + 0.5 * torch.randn(4, 1, 8, 8, generator=g)
    p = project_linf(z, x, 0.1)
    reference = torch.clamp(torch.clamp(z, x - 0.1, x + 0.1), 0, 1)
    assert torch.allclose(p, reference)
    assert (p - x).abs().max() <= 0.1 + 1e-7 and p.min() >= 0 and p.max() <= 1
    inside = x + 0.05 * (2 * torch.rand(4, 1, 8, 8, generator=g) - 1)
    inside = inside.clamp(0, 1)
    assert torch.allclose(project_linf(inside, x, 0.1), inside), "points inside must not move"


@pytest.mark.parametrize("targeted", [False, True])
def test_pgd_stays_in_the_ball_and_the_box(targeted):
    model, x, y = _model_and_batch()
    for eps in (0.05, 0.3):
        x_adv = pgd(model, x, y, eps, steps=7, targeted=targeted)
        assert (x_adv - x).abs().max() <= eps + 1e-6
        assert x_adv.min() >= 0 and x_adv.max() <= 1


def test_pgd_one_step_without_random_start_is_fgsm():
    model, x, y = _model_and_batch()
    one = pgd(model, x, y, 0.1, steps=1, alpha=0.1, random_start=False)
    assert torch.allclose(one, fgsm(model, x, y, 0.1), atol=1e-6)


def test_pgd_increases_the_loss_more_than_fgsm_and_is_reproducible():
    model, x, y = _model_and_batch(n=64)
    with torch.no_grad():
        loss_fgsm = F.cross_entropy(model(fgsm(model, x, y, 0.1)), y)
        x1 = pgd(model, x, y, 0.1, steps=10, generator=torch.Generator().manual_seed(3))
        x2 = pgd(model, x, y, 0.1, steps=10, generator=torch.Generator().manual_seed(3))
        assert torch.equal(x1, x2)
        assert F.cross_entropy(model(x1), y) > loss_fgsm


@pytest.mark.parametrize("attack", [fgsm, pgd])
def test_attacks_reject_bad_eps(attack):
    model, x, y = _model_and_batch()
    with pytest.raises(ValueError, match="eps must be >= 0"):
        attack(model, x, y, -0.1)
    with pytest.raises(TypeError, match="eps must be a finite number"):
        attack(model, x, y, float("nan"))
    with pytest.raises(TypeError, match="eps must be a finite number"):
        attack(model, x, y, "0.1")


@pytest.mark.parametrize("attack", [fgsm, pgd])
def test_attacks_reject_bad_shapes_and_ranges(attack):
    model, x, y = _model_and_batch()
    with pytest.raises(ValueError, match="x has 16 images but y has 15"):
        attack(model, x, y[:-1], 0.1)
    with pytest.raises(ValueError, match="1-D int64"):
        attack(model, x, y.float(), 0.1)
    with pytest.raises(ValueError, match="batch of shape"):
        attack(model, x[0, 0, 0], y[:1], 0.1)
    with pytest.raises(ValueError, match=r"lie in the box \[0.0, 1.0\]"):
        attack(model, 255 * x, y, 0.1)
    with pytest.raises(TypeError, match="floating-point"):
        attack(model, (255 * x).long(), y, 0.1)
    with pytest.raises(ValueError, match="low < high"):
        attack(model, x, y, 0.1, box=(1.0, 0.0))


def test_pgd_rejects_bad_steps_and_project_bad_shapes():
    model, x, y = _model_and_batch()
    with pytest.raises(ValueError, match="steps must be an int >= 1"):
        pgd(model, x, y, 0.1, steps=0)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        pgd(model, x, y, 0.1, alpha=-1.0)
    with pytest.raises(ValueError, match="must have one shape"):
        project_linf(x[:3], x, 0.1)


def test_robust_accuracy_batches_and_success_rate():
    model, x, y = _model_and_batch(n=40)
    clean = (predict(model, x) == y).float().mean().item()
    assert robust_accuracy(model, x, y) == pytest.approx(clean)
    whole = fgsm(model, x, y, 0.1)
    assert torch.allclose(attack_batches(model, x, y, fgsm, batch_size=7, eps=0.1), whole)
    assert robust_accuracy(model, x, y, fgsm, batch_size=7, eps=0.1) == pytest.approx(
        (predict(model, whole) == y).float().mean().item()
    )
    assert success_rate(model, x, predict(model, x)) == 1.0
    with pytest.raises(TypeError, match="attack must be a function"):
        attack_batches(model, x, y, "fgsm")


def test_adversarial_training_beats_standard_training_under_attack():
    train, _, test = load_digits(images=True)
    X, y = test.X.to(DEV), test.y.to(DEV)

    def make():
        set_seed(0)
        return SmallCNN(width=8, hidden=32)

    standard, robust = make(), make()
    fit(standard, train, loss_fn=F.cross_entropy, epochs=8, lr=3e-3, progress=False)
    adversarial_fit(robust, train, eps=0.2, attack=pgd, steps=2, epochs=8, lr=3e-3, progress=False)
    assert robust_accuracy(standard, X, y) >= 0.9 and robust_accuracy(robust, X, y) >= 0.85
    acc_std = robust_accuracy(standard, X, y, pgd, eps=0.2, steps=10)
    acc_rob = robust_accuracy(robust, X, y, pgd, eps=0.2, steps=10)
    assert acc_rob > acc_std + 0.2, (acc_std, acc_rob)
    with pytest.raises(ValueError, match="clean_weight"):
        adversarial_fit(robust, train, eps=0.1, clean_weight=2.0)
