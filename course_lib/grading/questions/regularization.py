"""Visible checks for the regularisation and normalisation exercises (chapter 05)."""

import torch

from ..checks import case


@case(
    "regularization.inverted_dropout", hint="Training: x * mask / (1 - p). Evaluation: x unchanged."
)
def training_scales_kept_units(inverted_dropout):
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    mask = torch.tensor([1.0, 0.0, 1.0, 0.0])
    y = torch.as_tensor(inverted_dropout(x, 0.5, mask, True))
    assert y.shape == x.shape, f"output shape {tuple(y.shape)} should equal the input's"
    assert y[1] == 0 and y[3] == 0, "dropped units (mask 0) must output 0"
    assert torch.allclose(y, torch.tensor([2.0, 0.0, 6.0, 0.0])), (
        "kept units are not scaled correctly"
    )


@case("regularization.inverted_dropout", hint="Inverted dropout does nothing at test time.")
def evaluation_is_identity(inverted_dropout):
    x = torch.randn(5)
    y = torch.as_tensor(inverted_dropout(x, 0.3, torch.zeros(5), False))
    assert torch.equal(y, x), "in evaluation mode the output must equal the input"


def _bn_reference(x, gamma, beta, rm, rv, training, momentum=0.1, eps=1e-5):
    bn = torch.nn.BatchNorm1d(x.shape[1], eps=eps, momentum=momentum).double()
    with torch.no_grad():
        bn.weight.copy_(gamma), bn.bias.copy_(beta)
        bn.running_mean.copy_(rm), bn.running_var.copy_(rv)
    bn.train(training)
    with torch.no_grad():
        y = bn(x)
    return y, bn.running_mean, bn.running_var


def _bn_inputs(seed):
    g = torch.Generator().manual_seed(seed)
    x = 2 * torch.randn(8, 3, generator=g, dtype=torch.float64) + 1
    gamma = torch.randn(3, generator=g, dtype=torch.float64)
    beta = torch.randn(3, generator=g, dtype=torch.float64)
    rm = torch.randn(3, generator=g, dtype=torch.float64)
    rv = torch.rand(3, generator=g, dtype=torch.float64) + 0.5
    return x, gamma, beta, rm, rv


@case(
    "regularization.batchnorm_forward",
    hint="Training mode normalises with the batch mean and "
    "the *biased* batch variance, with eps inside the square root.",
)
def training_output_matches_torch(batchnorm_forward):
    x, gamma, beta, rm, rv = _bn_inputs(0)
    y, _, _ = batchnorm_forward(x, gamma, beta, rm.clone(), rv.clone(), True)
    ref, _, _ = _bn_reference(x, gamma, beta, rm, rv, True)
    assert torch.allclose(torch.as_tensor(y), ref, atol=1e-10), (
        "training-mode output differs from torch.nn.BatchNorm1d"
    )


@case(
    "regularization.batchnorm_forward",
    hint="running <- (1 - momentum) * running + momentum * "
    "batch statistic; the running variance uses the unbiased batch variance.",
)
def running_statistics_match_torch(batchnorm_forward):
    x, gamma, beta, rm, rv = _bn_inputs(1)
    _, new_rm, new_rv = batchnorm_forward(x, gamma, beta, rm.clone(), rv.clone(), True)
    _, ref_rm, ref_rv = _bn_reference(x, gamma, beta, rm, rv, True)
    assert torch.allclose(torch.as_tensor(new_rm), ref_rm, atol=1e-12), (
        "the new running mean is wrong"
    )
    assert torch.allclose(torch.as_tensor(new_rv), ref_rv, atol=1e-12), (
        "the new running variance is wrong"
    )


@case(
    "regularization.batchnorm_forward",
    hint="Evaluation mode uses the running statistics and leaves them unchanged.",
)
def evaluation_uses_running_statistics(batchnorm_forward):
    x, gamma, beta, rm, rv = _bn_inputs(2)
    y, new_rm, new_rv = batchnorm_forward(x, gamma, beta, rm.clone(), rv.clone(), False)
    ref, _, _ = _bn_reference(x, gamma, beta, rm, rv, False)
    assert torch.allclose(torch.as_tensor(y), ref, atol=1e-10), (
        "evaluation-mode output differs from torch.nn.BatchNorm1d in eval mode"
    )
    assert torch.equal(torch.as_tensor(new_rm), rm) and torch.equal(torch.as_tensor(new_rv), rv), (
        "evaluation mode must not change the running statistics"
    )


@case(
    "regularization.clip_by_global_norm",
    hint="The global norm is sqrt of the sum of squares of "
    "ALL gradients together; scale every gradient by the same factor.",
)
def clips_like_torch(clip_by_global_norm):
    g = torch.Generator().manual_seed(0)
    grads = [3 * torch.randn(4, 2, generator=g), 3 * torch.randn(5, generator=g)]
    params = [torch.zeros_like(t, requires_grad=True) for t in grads]
    for p, t in zip(params, grads, strict=True):
        p.grad = t.clone()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    out = clip_by_global_norm([t.clone() for t in grads], 1.0)
    assert len(out) == 2, "return one clipped gradient per input gradient"
    for o, p in zip(out, params, strict=True):
        assert torch.allclose(torch.as_tensor(o), p.grad, atol=1e-5), (
            "clipped gradients differ from torch.nn.utils.clip_grad_norm_"
        )


@case("regularization.clip_by_global_norm", hint="Only clip when the norm exceeds max_norm.")
def small_gradients_are_unchanged(clip_by_global_norm):
    grads = [torch.tensor([0.1, -0.2]), torch.tensor([0.05])]
    out = clip_by_global_norm([t.clone() for t in grads], 1.0)
    for o, t in zip(out, grads, strict=True):
        assert torch.allclose(torch.as_tensor(o), t), (
            "a gradient shorter than max_norm must not change"
        )


@case(
    "regularization.precision_recall_f1",
    hint="Rows of cm are true classes, columns predicted "
    "classes: TP = diagonal, FP = column sum - TP, FN = row sum - TP.",
)
def two_class_example(precision_recall_f1):
    cm = torch.tensor([[50, 10], [5, 35]])
    p, r, f = (torch.as_tensor(t, dtype=torch.float64) for t in precision_recall_f1(cm))
    assert p.shape == (2,) and r.shape == (2,) and f.shape == (2,), "return one value per class"
    f64 = torch.float64
    assert torch.allclose(p, torch.tensor([50 / 55, 35 / 45], dtype=f64)), "precision is wrong"
    assert torch.allclose(r, torch.tensor([50 / 60, 35 / 40], dtype=f64)), "recall is wrong"
    assert torch.allclose(f, 2 * p * r / (p + r)), "F1 is wrong"


@case(
    "regularization.precision_recall_f1",
    hint="A class that is never predicted has precision 0 "
    "(not NaN); F1 is 0 when precision + recall is 0.",
)
def never_predicted_class(precision_recall_f1):
    cm = torch.tensor([[5, 0, 0], [0, 3, 0], [2, 1, 0]])
    p, r, f = (torch.as_tensor(t, dtype=torch.float64) for t in precision_recall_f1(cm))
    assert not torch.isnan(p).any() and not torch.isnan(f).any(), "no NaN allowed"
    assert p[2] == 0 and r[2] == 0 and f[2] == 0, "class 2 is never predicted: all its scores are 0"
