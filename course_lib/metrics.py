"""Classification metrics, written out so that the formulas are visible."""

import torch


def _labels(pred: torch.Tensor) -> torch.Tensor:
    """Class labels from either labels (1-D) or scores/logits (2-D, one column per class)."""
    return pred.argmax(dim=1) if pred.ndim == 2 else pred


def accuracy(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Fraction of correct predictions, (1/N) sum_i [yhat_i = y_i].

    ``pred`` holds labels of shape (N,) or scores of shape (N, C).
    """
    labels = _labels(pred)
    if labels.shape != target.shape:
        raise ValueError(
            f"pred gives {tuple(labels.shape)} labels but target has shape {tuple(target.shape)}"
        )
    if target.numel() == 0:
        raise ValueError("accuracy of an empty batch is undefined")
    return (labels == target).float().mean().item()


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts C[i, j] = number of examples of true class i predicted as class j."""
    labels = _labels(pred).long().cpu()
    target = target.long().cpu()
    if labels.min() < 0 or target.min() < 0 or max(labels.max(), target.max()) >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes}), got values outside that range")
    flat = target * num_classes + labels
    return torch.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def precision_recall_f1(pred: torch.Tensor, target: torch.Tensor, num_classes: int):
    """Per-class precision TP/(TP+FP), recall TP/(TP+FN) and F1 = 2PR/(P+R).

    Returns three float tensors of shape (num_classes,); a class never predicted (or never
    present) gets precision (or recall) 0 rather than a division by zero.
    """
    cm = confusion_matrix(pred, target, num_classes).double()
    tp = cm.diag()
    precision = torch.where(cm.sum(0) > 0, tp / cm.sum(0).clamp(min=1), torch.zeros_like(tp))
    recall = torch.where(cm.sum(1) > 0, tp / cm.sum(1).clamp(min=1), torch.zeros_like(tp))
    denom = precision + recall
    f1 = torch.where(
        denom > 0, 2 * precision * recall / denom.clamp(min=1e-12), torch.zeros_like(tp)
    )
    return precision, recall, f1
