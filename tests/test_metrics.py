"""course_lib.metrics against scikit-learn's metrics on the same predictions."""

import numpy as np
import pytest
import sklearn.metrics as skm
import torch

from course_lib.metrics import (
    accuracy,
    confusion_matrix,
    error_rate,
    mean_squared_error,
    precision_recall_f1,
)


def random_labels(n=300, c=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    target = torch.randint(0, c, (n,), generator=g)
    # Mostly right, sometimes wrong, and class c-1 never predicted: exercises the 0/0 cases.
    noise = torch.randint(0, c, (n,), generator=g)
    pred = torch.where(torch.rand(n, generator=g) < 0.6, target, noise)
    pred[pred == c - 1] = 0
    return pred, target


def test_accuracy_and_error_rate_match_sklearn():
    pred, target = random_labels()
    assert accuracy(pred, target) == pytest.approx(skm.accuracy_score(target, pred))
    assert error_rate(pred, target) == pytest.approx(skm.zero_one_loss(target, pred))


def test_accuracy_accepts_scores():
    scores = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert accuracy(scores, torch.tensor([1, 0, 0])) == pytest.approx(2 / 3)


def test_confusion_matrix_matches_sklearn():
    pred, target = random_labels()
    ours = confusion_matrix(pred, target, 5).numpy()
    ref = skm.confusion_matrix(target, pred, labels=range(5))
    np.testing.assert_array_equal(ours, ref)
    assert ours.sum() == len(target)


@pytest.mark.parametrize("average", [None, "macro", "micro", "weighted"])
def test_precision_recall_f1_match_sklearn(average):
    pred, target = random_labels()
    ours = precision_recall_f1(pred, target, 5, average=average)
    ref = skm.precision_recall_fscore_support(
        target, pred, labels=range(5), average=average, zero_division=0
    )[:3]
    for o, r in zip(ours, ref, strict=True):
        np.testing.assert_allclose(np.asarray(o, dtype=float), r, atol=1e-12)


def test_binary_precision_recall_by_hand():
    # TP = 2, FP = 1, FN = 3: precision 2/3, recall 2/5.
    target = torch.tensor([1, 1, 1, 1, 1, 0, 0, 0])
    pred = torch.tensor([1, 1, 0, 0, 0, 1, 0, 0])
    p, r, f = precision_recall_f1(pred, target, 2)
    assert p[1].item() == pytest.approx(2 / 3) and r[1].item() == pytest.approx(2 / 5)
    assert f[1].item() == pytest.approx(2 * (2 / 3) * (2 / 5) / (2 / 3 + 2 / 5))


def test_majority_predictor_has_zero_recall():
    target = torch.tensor([0] * 95 + [1] * 5)
    pred = torch.zeros(100, dtype=torch.long)
    p, r, _ = precision_recall_f1(pred, target, 2)
    assert accuracy(pred, target) == pytest.approx(0.95)
    assert r[1].item() == 0.0 and p[1].item() == 0.0


def test_mean_squared_error_matches_sklearn():
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(50, generator=g), torch.randn(50, generator=g)
    assert mean_squared_error(a, b) == pytest.approx(skm.mean_squared_error(b, a))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="num_classes"):
        confusion_matrix(torch.tensor([0]), torch.tensor([0]), 0)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        confusion_matrix(torch.tensor([0, 2]), torch.tensor([0, 1]), 2)
    with pytest.raises(ValueError, match="target"):
        accuracy(torch.tensor([0, 1]), torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match="average"):
        precision_recall_f1(torch.tensor([0]), torch.tensor([0]), 2, average="mean")
    with pytest.raises(TypeError, match="pred"):
        accuracy([0, 1], torch.tensor([0, 1]))


def test_plot_confusion_matrix_draws_counts():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.plot import plot_confusion_matrix

    pred, target = random_labels()
    cm = confusion_matrix(pred, target, 5)
    ax = plot_confusion_matrix(cm, class_names="abcde")
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 25 and str(int(cm[0, 0])) in texts
    ax_norm = plot_confusion_matrix(cm, normalize=True)
    diag = float(ax_norm.texts[0].get_text())
    assert diag == pytest.approx((cm[0, 0] / cm[0].sum()).item(), abs=0.005)
    with pytest.raises(ValueError, match="class_names"):
        plot_confusion_matrix(cm, class_names=["a"])
    plt.close("all")
