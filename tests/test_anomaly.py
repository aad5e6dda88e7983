"""ROC AUC against scikit-learn, and reconstruction scores against a direct computation."""

import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from course_lib.anomaly import reconstruction_scores, roc_auc


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_auc_matches_sklearn_with_ties(seed):
    g = torch.Generator().manual_seed(seed)
    neg = torch.randint(0, 6, (40,), generator=g).float()  # few distinct values: many ties
    pos = torch.randint(2, 8, (25,), generator=g).float()
    labels = [0] * len(neg) + [1] * len(pos)
    expected = roc_auc_score(labels, torch.cat([neg, pos]).numpy())
    assert roc_auc(neg, pos) == pytest.approx(expected, abs=1e-12)


def test_roc_auc_edge_cases():
    assert roc_auc(torch.tensor([0.0, 1.0]), torch.tensor([2.0, 3.0])) == 1.0
    assert roc_auc(torch.tensor([2.0, 3.0]), torch.tensor([0.0, 1.0])) == 0.0
    assert roc_auc(torch.ones(3), torch.ones(5)) == 0.5
    assert roc_auc(torch.tensor([1.0]), torch.tensor([2.0])) == 1.0
    with pytest.raises(ValueError, match="at least one score"):
        roc_auc(torch.tensor([]), torch.tensor([1.0]))
    with pytest.raises(ValueError, match="1-D"):
        roc_auc(torch.ones(2, 2), torch.ones(3))


def test_reconstruction_scores_are_per_example_mse():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 16), nn.Unflatten(1, (1, 4, 4)))
    X = torch.rand(5, 1, 4, 4)
    with torch.no_grad():
        expected = ((model(X) - X) ** 2).flatten(1).mean(1)
    torch.testing.assert_close(reconstruction_scores(model, X), expected)
    with pytest.raises(ValueError, match="shape"):
        reconstruction_scores(nn.Flatten(), X)
