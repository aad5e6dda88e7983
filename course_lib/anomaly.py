"""Anomaly detection by reconstruction error, and the ROC AUC that scores a detector.

A model fitted to normal data only reconstructs inputs like them well; its reconstruction error
s(x) = (1/D) ||x - x_hat(x)||^2 is then an anomaly score: large means unlike the training data.
"""

import torch

from .validation import check_tensor


@torch.no_grad()
def reconstruction_scores(model, X):
    """Per-example mean squared reconstruction error (1/D) sum_p (x_p - model(x)_p)^2."""
    X = check_tensor("X", X, dtype="floating")
    if X.ndim < 2:
        raise ValueError(f"X must hold a batch of examples (N, ...), got shape {tuple(X.shape)}")
    was_training = model.training
    model.eval()
    out = model(X)
    model.train(was_training)
    if out.shape != X.shape:
        raise ValueError(
            f"the model must return its input's shape {tuple(X.shape)}, got {tuple(out.shape)}"
        )
    return (out - X).pow(2).reshape(len(X), -1).mean(dim=1)


def roc_auc(scores_negative, scores_positive) -> float:
    """Area under the ROC curve = P(score of a random positive > score of a random negative),
    ties counting one half (the Mann-Whitney U statistic divided by n_pos n_neg).

    Computed from ranks: AUC = (sum of the positives' ranks - n_pos (n_pos + 1) / 2) / (n_pos n_neg),
    with tied scores given their average rank.
    """
    # ranks are cheap: do them on the CPU in float64, wherever the scores were computed
    neg = check_tensor("scores_negative", scores_negative, ndim=1).detach().double().cpu()
    pos = check_tensor("scores_positive", scores_positive, ndim=1).detach().double().cpu()
    if len(neg) == 0 or len(pos) == 0:
        raise ValueError(f"need at least one score of each kind, got {len(neg)} and {len(pos)}")
    scores = torch.cat([neg, pos])
    order = scores.argsort()
    ranks = torch.empty_like(scores)
    ranks[order] = torch.arange(1, len(scores) + 1, dtype=scores.dtype)
    # average the ranks within each group of tied scores
    _, inverse, counts = torch.unique(scores, return_inverse=True, return_counts=True)
    rank_sums = torch.zeros(len(counts), dtype=scores.dtype).index_add_(0, inverse, ranks)
    ranks = (rank_sums / counts)[inverse]
    n_neg, n_pos = len(neg), len(pos)
    u = ranks[n_neg:].sum() - n_pos * (n_pos + 1) / 2
    return (u / (n_pos * n_neg)).item()
