"""Visible checks for chapter 13b (text classification)."""

import torch
import torch.nn.functional as F

from ..checks import case


# ----------------------------------------------------------------------------- masked_mean_pool
@case("text_classification.masked_mean_pool", hint="One vector per sentence: shape (B, d).")
def pool_shape(fn):
    out = fn(torch.zeros(3, 5, 4), torch.ones(3, 5, dtype=torch.long))
    assert tuple(out.shape) == (3, 4), f"expected shape (3, 4), got {tuple(out.shape)}"


@case("text_classification.masked_mean_pool", hint="Average only where the mask is 1.")
def pool_worked_example(fn):
    states = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    out = fn(states, torch.tensor([[1, 1, 0]]))
    assert torch.allclose(out, torch.tensor([[2.0, 3.0]])), "the padding position must not count"


@case("text_classification.masked_mean_pool", hint="Each sentence has its own number of tokens.")
def pool_lengths(fn):
    g = torch.Generator().manual_seed(0)
    states = torch.randn(2, 4, 3, generator=g, dtype=torch.float64)
    mask = torch.tensor([[1, 0, 0, 0], [1, 1, 1, 1]])
    want = torch.stack([states[0, 0], states[1].mean(0)])
    assert torch.allclose(fn(states, mask), want), "wrong for sentences of different lengths"


# ----------------------------------------------------------------------------- prototype_predict
def _brute(support, labels, queries):
    classes = int(labels.max()) + 1
    protos = [F.normalize(support[labels == c], dim=1).mean(0) for c in range(classes)]
    return torch.tensor(
        [
            max(range(classes), key=lambda c: float(F.cosine_similarity(q, protos[c], dim=0)))
            for q in queries
        ]
    )


@case("text_classification.prototype_predict", hint="Return one class index per query.")
def proto_shape(fn):
    out = torch.as_tensor(fn(torch.eye(4), torch.tensor([0, 0, 1, 1]), torch.eye(4)[:3]))
    assert tuple(out.shape) == (3,), f"expected shape (3,), got {tuple(out.shape)}"
    assert out.dtype == torch.int64, f"expected int64 class indices, got {out.dtype}"


@case("text_classification.prototype_predict", hint="The nearest prototype wins.")
def proto_worked_example(fn):
    support = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    labels = torch.tensor([0, 0, 1])
    out = torch.as_tensor(fn(support, labels, torch.tensor([[2.0, 0.5], [0.1, 3.0]])))
    assert out.tolist() == [0, 1], "wrong on two well-separated classes"


@case(
    "text_classification.prototype_predict",
    hint="Use cosine similarity: normalise the support vectors before averaging them.",
)
def proto_cosine(fn):
    # class 0 has a long and a short vector; its prototype must not be dominated by the long one
    support = torch.tensor([[10.0, 0.0], [0.0, 0.1], [1.0, 1.2]])
    labels = torch.tensor([0, 0, 1])
    queries = torch.tensor([[0.2, 1.0], [1.0, 0.05]])
    want = _brute(support, labels, queries)
    got = torch.as_tensor(fn(support, labels, queries))
    assert got.tolist() == want.tolist(), "wrong when the support vectors have different lengths"


# ----------------------------------------------------------------------------- bag_of_words
@case("text_classification.bag_of_words", hint="Shape (N, vocab_size), one row per sentence.")
def bow_shape(fn):
    out = fn(torch.tensor([[2, 3, 0], [4, 0, 0]]), 6)
    assert tuple(out.shape) == (2, 6), f"expected shape (2, 6), got {tuple(out.shape)}"


@case("text_classification.bag_of_words", hint="Count each id; the padding id 0 is not a word.")
def bow_counts(fn):
    out = fn(torch.tensor([[2, 3, 2, 0], [5, 5, 5, 5]]), 6)
    want = torch.tensor([[0, 0, 2, 1, 0, 0], [0, 0, 0, 0, 0, 4]])
    assert torch.equal(torch.as_tensor(out).long(), want), "wrong counts"


@case("text_classification.bag_of_words", hint="The order of the words must not matter.")
def bow_order(fn):
    a = fn(torch.tensor([[2, 3, 4, 0]]), 5)
    b = fn(torch.tensor([[4, 2, 3, 0]]), 5)
    assert torch.equal(torch.as_tensor(a), torch.as_tensor(b)), (
        "a reordered sentence has the same bag"
    )
