"""Classification and regression metrics, written out so that the formulas are visible.

Predictions may be labels (N,) or scores/logits (N, C); targets are integer labels (N,).
"""

import torch

AVERAGES = (None, "macro", "micro", "weighted")


def _labels(pred: torch.Tensor) -> torch.Tensor:
    """Class labels from either labels (1-D) or scores/logits (2-D, one column per class)."""
    return pred.argmax(dim=1) if pred.ndim == 2 else pred


def _check_tensors(pred, target):
    for name, t in (("pred", pred), ("target", target)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")


def accuracy(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Fraction of correct predictions, (1/N) sum_i [yhat_i = y_i].

    ``pred`` holds labels of shape (N,) or scores of shape (N, C).
    """
    _check_tensors(pred, target)
    labels = _labels(pred)
    if labels.shape != target.shape:
        raise ValueError(
            f"pred gives {tuple(labels.shape)} labels but target has shape {tuple(target.shape)}"
        )
    if target.numel() == 0:
        raise ValueError("accuracy of an empty batch is undefined")
    return (labels == target).float().mean().item()


def error_rate(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Empirical risk under the 0/1 loss: (1/N) sum_i [yhat_i != y_i] = 1 - accuracy."""
    return 1.0 - accuracy(pred, target)


def mean_squared_error(pred: torch.Tensor, target: torch.Tensor) -> float:
    """MSE = (1/N) sum_i ||y_i - yhat_i||^2 (summed over output dimensions, if any)."""
    _check_tensors(pred, target)
    if pred.shape != target.shape:
        raise ValueError(f"pred has shape {tuple(pred.shape)} but target {tuple(target.shape)}")
    if target.numel() == 0:
        raise ValueError("mean squared error of an empty batch is undefined")
    sq = (pred - target).double() ** 2
    return sq.reshape(sq.shape[0], -1).sum(1).mean().item()


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts C[i, j] = number of examples of true class i predicted as class j.

    Rows are true classes, columns predicted classes (scikit-learn's convention), so the
    diagonal holds the correct predictions. Returned as an int64 tensor on the CPU.
    """
    _check_tensors(pred, target)
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    labels = _labels(pred).long().cpu()
    target = target.long().cpu()
    if labels.shape != target.shape or target.ndim != 1:
        raise ValueError(
            f"pred gives {tuple(labels.shape)} labels but target has shape {tuple(target.shape)};"
            " expected two (N,) label vectors"
        )
    if target.numel() == 0:
        return torch.zeros(num_classes, num_classes, dtype=torch.long)
    if labels.min() < 0 or target.min() < 0 or max(labels.max(), target.max()) >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes}), got values outside that range")
    flat = target * num_classes + labels
    return torch.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def precision_recall_f1(
    pred: torch.Tensor, target: torch.Tensor, num_classes: int, average: str | None = None
):
    """Precision TP/(TP+FP), recall TP/(TP+FN) and F1 = 2PR/(P+R), per class or averaged.

    With ``average=None`` returns three float tensors of shape (num_classes,); a class never
    predicted (or never present) gets precision (or recall) 0 rather than a division by zero.
    ``"macro"`` averages the per-class values with equal weights over the classes that occur
    (in ``target`` or in the predictions), the labels scikit-learn's ``f1_score`` uses by
    default; ``"weighted"`` weights them by the class frequencies (support), and ``"micro"``
    pools TP, FP and FN over the classes first (for single-label data all three micro scores
    equal the accuracy). Averages are floats, and need at least one example.
    """
    if average not in AVERAGES:
        raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")
    cm = confusion_matrix(pred, target, num_classes).double()
    if average is not None and cm.sum() == 0:
        raise ValueError(f"average={average!r} of an empty set of predictions is undefined")
    tp, predicted, actual = cm.diag(), cm.sum(0), cm.sum(1)
    if average == "micro":
        tp, predicted, actual = tp.sum(), predicted.sum(), actual.sum()
    precision = torch.where(predicted > 0, tp / predicted.clamp(min=1), torch.zeros_like(tp))
    recall = torch.where(actual > 0, tp / actual.clamp(min=1), torch.zeros_like(tp))
    denom = precision + recall
    f1 = torch.where(
        denom > 0, 2 * precision * recall / denom.clamp(min=1e-12), torch.zeros_like(tp)
    )
    if average is None:
        return precision, recall, f1
    if average == "micro":
        return precision.item(), recall.item(), f1.item()
    if average == "weighted":
        weights = actual / actual.sum()
    else:
        occurs = (actual > 0) | (predicted > 0)
        weights = occurs.double() / occurs.sum()
    return tuple((weights * m).sum().item() for m in (precision, recall, f1))
