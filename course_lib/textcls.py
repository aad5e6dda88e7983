"""Sentence classifiers of chapter 13b, from a bag of embeddings to a pretrained encoder.

Every trained-from-scratch model reads word ids ``(B, T)`` padded with ``PAD = 0`` *after* the
words, and returns class logits ``(B, C)``; padding never changes the output. The MiniLM
helpers turn sentences into fixed vectors once (feature extraction), and classify with those
vectors by cosine similarity (zero-shot, few-shot prototypes).
"""

import torch
import torch.nn.functional as F
from torch import nn

from .device import seeded
from .models.transformer import TransformerBlock
from .validation import check_ids, check_int, check_tensor

PAD = 0


def _check_ids(ids, vocab_size):
    check_tensor("ids", ids, ndim=2, dtype="integer")
    check_ids("ids", ids, vocab_size)
    if not (ids[:, 0] != PAD).all():
        raise ValueError("every sentence needs at least one word: ids[:, 0] must not be PAD")


def masked_mean(h, mask):
    """Mean over the real positions: m = sum_t mask_t h_t / sum_t mask_t.

    ``h`` (B, T, d), ``mask`` (B, T) bool or 0/1 -> (B, d).
    """
    check_tensor("h", h, ndim=3, dtype="floating")
    check_tensor("mask", mask, shape=h.shape[:2])
    m = mask[..., None].to(h.dtype)
    return (h * m).sum(1) / m.sum(1).clamp(min=1)


class BagOfEmbeddings(nn.Module):
    """The fastText-style classifier (Joulin et al. 2017): logits = W mean_t(E[w_t]) + b.

    The mean forgets the order of the words, so any permutation of a sentence gets the same
    logits, and the logit is *additive* in the words (up to the 1/length factor).
    """

    def __init__(self, vocab_size: int, dim: int = 32, n_classes: int = 2):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, dim, padding_idx=PAD)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, ids):
        _check_ids(ids, self.emb.num_embeddings)
        return self.head(masked_mean(self.emb(ids), ids != PAD))


class CNNClassifier(nn.Module):
    """A 1-D convolution over word embeddings, max-pooled over time (Kim 2014):

        c_{f,t} = ReLU(b_f + sum_{j=0}^{k-1} W_{f,j} . e_{t+j-k//2}),   z_f = max_t c_{f,t},
        logits = W z + b,

    with one bank of filters per kernel width k. A filter sees k neighbouring words, so it can
    detect "not good" or "but ... great" as a unit; the max keeps *whether* it fired, anywhere.
    Positions past a sentence's end are left out of the max, and the padding embedding is zero,
    so extra padding changes nothing.
    """

    def __init__(
        self,
        vocab_size: int,
        dim: int = 32,
        channels: int = 32,
        kernel_sizes=(3, 5),
        n_classes: int = 2,
    ):
        super().__init__()
        if not kernel_sizes or any(k < 1 or k % 2 == 0 for k in kernel_sizes):
            raise ValueError(f"kernel_sizes must be odd positive ints, got {kernel_sizes!r}")
        self.emb = nn.Embedding(vocab_size, dim, padding_idx=PAD)
        self.convs = nn.ModuleList(
            nn.Conv1d(dim, channels, k, padding=k // 2) for k in kernel_sizes
        )
        self.head = nn.Linear(channels * len(kernel_sizes), n_classes)

    def forward(self, ids):
        _check_ids(ids, self.emb.num_embeddings)
        x = self.emb(ids).transpose(1, 2)  # (B, dim, T): Conv1d wants channels first
        pad = (ids == PAD)[:, None, :]
        pooled = [F.relu(conv(x)).masked_fill(pad, float("-inf")).amax(-1) for conv in self.convs]
        return self.head(torch.cat(pooled, 1))


class GRUClassifier(nn.Module):
    """A GRU reads the sentence left to right; its state after the last word feeds a linear
    layer: h_t = GRU(h_{t-1}, e_t),  logits = W h_L + b  (L = the sentence's length).

    The state after word L depends only on words 1..L, so trailing padding changes nothing.
    """

    def __init__(self, vocab_size: int, dim: int = 32, hidden: int = 64, n_classes: int = 2):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, dim, padding_idx=PAD)
        self.gru = nn.GRU(dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, ids):
        _check_ids(ids, self.emb.num_embeddings)
        out, _ = self.gru(self.emb(ids))  # (B, T, hidden)
        last = (ids != PAD).sum(1) - 1
        return self.head(out[torch.arange(len(ids), device=ids.device), last])


class TransformerClassifier(nn.Module):
    """Word + learned position embeddings, ``layers`` of the book's ``TransformerBlock``
    (pre-LN, chapter 13) with padding keys masked out, a final LayerNorm, the mean over the real
    positions and a linear layer:

        X_0 = E[w] + P,  X_l = Block_l(X_{l-1}; mask),  logits = W mean_t LN(X_L)_t + b.

    Without P the model would be order-invariant like the bag: self-attention and the mean are
    permutation-equivariant/invariant; the position embeddings are what let it read order.
    """

    def __init__(
        self,
        vocab_size: int,
        dim: int = 32,
        heads: int = 4,
        layers: int = 2,
        max_len: int = 32,
        n_classes: int = 2,
        positions: bool = True,
    ):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, dim, padding_idx=PAD)
        self.pos = nn.Parameter(torch.randn(max_len, dim) * 0.1) if positions else None
        self.blocks = nn.ModuleList(
            TransformerBlock(dim, heads, 2 * dim, norm_first=True) for _ in range(layers)
        )
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, n_classes)
        self.max_len = max_len

    def forward(self, ids):
        _check_ids(ids, self.emb.num_embeddings)
        if ids.shape[1] > self.max_len:
            raise ValueError(f"ids has {ids.shape[1]} positions, more than max_len={self.max_len}")
        real = ids != PAD
        x = self.emb(ids)
        if self.pos is not None:
            x = x + self.pos[: ids.shape[1]]
        mask = real[:, None, None, :]  # (B, 1, 1, T): every query may attend to the real keys
        for block in self.blocks:
            x = block(x, mask)
        return self.head(masked_mean(self.norm(x), real))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@torch.no_grad()
def predict(model, ids, *, batch_size: int = 1024):
    """Class predictions (N,) of a model on word ids (N, T), in eval mode."""
    was_training = model.training
    model.eval()
    out = torch.cat(
        [model(ids[s : s + batch_size]).argmax(-1) for s in range(0, len(ids), batch_size)]
    )
    model.train(was_training)
    return out


def accuracy_on(pred, labels, where=None) -> float:
    """Fraction of ``pred == labels``, over all examples or only where ``where`` is True."""
    check_tensor("pred", pred, ndim=1)
    check_tensor("labels", labels, shape=pred.shape)
    if where is not None:
        check_tensor("where", where, shape=pred.shape, dtype=torch.bool)
        if not where.any():
            raise ValueError("where selects no example")
        pred, labels = pred[where], labels[where]
    return (pred == labels).float().mean().item()


# --------------------------------------------------------------------------------------------
# A pretrained encoder: MiniLM as a feature extractor, zero-shot and few-shot
# --------------------------------------------------------------------------------------------


@torch.no_grad()
def encoder_states(encoder, batch, layers, *, batch_size: int = 128):
    """Token states of a BERT-style encoder after each layer in ``layers`` (0 = embeddings),
    from one pass over the tokenised ``batch``: a dict layer -> (N, T, d)."""
    encoder.eval()
    out = {layer: [] for layer in layers}
    for s in range(0, len(batch["input_ids"]), batch_size):
        part = {k: v[s : s + batch_size] for k, v in batch.items()}
        hidden = encoder(**part, output_hidden_states=True).hidden_states
        for layer in layers:
            out[layer].append(hidden[layer])
    return {layer: torch.cat(h) for layer, h in out.items()}


def sentence_embedding(states, attention_mask, pool: str = "mean"):
    """One vector per sentence from token states (N, T, d): the mean over the real tokens (the
    pooling all-MiniLM-L6-v2 was trained with) or the state of the first token, [CLS]."""
    if pool == "mean":
        return masked_mean(states, attention_mask)
    if pool == "cls":
        return states[:, 0]
    raise ValueError(f"pool must be 'mean' or 'cls', got {pool!r}")


def train_probe(
    features,
    labels,
    *,
    n_classes: int = 2,
    steps: int = 300,
    lr=0.05,
    weight_decay=1e-3,
    seed: int = 0,
):
    """A linear probe on frozen features: logistic regression, softmax(W x + b), trained with
    full-batch Adam on the cross-entropy. The features are standardised with the training set's
    mean and standard deviation first (kept in the returned model)."""
    check_tensor("features", features, ndim=2, dtype="floating")
    check_tensor("labels", labels, shape=(len(features),), dtype="integer")
    steps = check_int("steps", steps, min_value=1)
    torch.manual_seed(seeded(seed))
    mu, sd = features.mean(0), features.std(0).clamp(min=1e-6)
    probe = nn.Sequential(Standardise(mu, sd), nn.Linear(features.shape[1], n_classes)).to(
        features.device
    )
    opt = torch.optim.Adam(probe.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        loss = F.cross_entropy(probe(features), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return probe.eval()


class Standardise(nn.Module):
    """x -> (x - mu) / sd with fixed mu and sd."""

    def __init__(self, mu, sd):
        super().__init__()
        self.register_buffer("mu", mu.detach().clone())
        self.register_buffer("sd", sd.detach().clone())

    def forward(self, x):
        return (x - self.mu) / self.sd


def cosine_predict(queries, references):
    """Index of the most similar reference for each query, by cosine similarity:
    argmax_c  q . r_c / (|q| |r_c|).  ``queries`` (N, d), ``references`` (C, d) -> (N,)."""
    check_tensor("queries", queries, ndim=2, dtype="floating")
    check_tensor("references", references, shape=(None, queries.shape[1]), dtype="floating")
    return (F.normalize(queries, dim=1) @ F.normalize(references, dim=1).T).argmax(1)


def prototype_predict(support, support_labels, queries, n_classes: int | None = None):
    """Few-shot classification with class prototypes (Snell et al. 2017, with cosine similarity):
    p_c = mean of the (unit-length) support embeddings of class c; predict argmax_c cos(q, p_c)."""
    check_tensor("support", support, ndim=2, dtype="floating")
    check_tensor("support_labels", support_labels, shape=(len(support),), dtype="integer")
    n_classes = int(support_labels.max()) + 1 if n_classes is None else n_classes
    unit = F.normalize(support, dim=1)
    protos = torch.stack([unit[support_labels == c].mean(0) for c in range(n_classes)])
    if protos.isnan().any():
        raise ValueError("every class needs at least one support example")
    return cosine_predict(queries, protos)


def few_shot_accuracy(
    pool, pool_labels, queries, query_labels, k: int, *, draws: int = 20, seed: int = 0, where=None
):
    """Mean accuracy on ``queries`` of ``prototype_predict`` with k support examples per class,
    drawn at random (seeded) from ``pool``, averaged over ``draws`` draws."""
    k = check_int("k", k, min_value=1)
    g = torch.Generator().manual_seed(seeded(seed))
    classes = pool_labels.unique().tolist()
    accs = []
    for _ in range(draws):
        pick = []
        for c in classes:
            idx = (pool_labels == c).nonzero().squeeze(1)
            if len(idx) < k:
                raise ValueError(f"class {c} has only {len(idx)} examples in the pool, k={k}")
            pick.append(idx[torch.randperm(len(idx), generator=g)[:k].to(idx.device)])
        pick = torch.cat(pick)
        pred = prototype_predict(pool[pick], pool_labels[pick], queries, len(classes))
        accs.append(accuracy_on(pred, query_labels, where))
    return sum(accs) / len(accs)


__all__ = [
    "PAD",
    "masked_mean",
    "BagOfEmbeddings",
    "CNNClassifier",
    "GRUClassifier",
    "TransformerClassifier",
    "count_parameters",
    "predict",
    "accuracy_on",
    "encoder_states",
    "sentence_embedding",
    "train_probe",
    "Standardise",
    "cosine_predict",
    "prototype_predict",
    "few_shot_accuracy",
]


@torch.no_grad()
def probe_as_linear(probe) -> nn.Linear:
    """The probe ``Linear(Standardise(x))`` folded into one linear layer on the raw features:
    W ((x - mu) / sd) + b = (W / sd) x + (b - (W / sd) mu)."""
    standardise, linear = probe[0], probe[1]
    W = linear.weight / standardise.sd
    out = nn.Linear(W.shape[1], W.shape[0]).to(W.device)
    out.weight.copy_(W)
    out.bias.copy_(linear.bias - W @ standardise.mu)
    return out
