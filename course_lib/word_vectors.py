"""The word2vec family beyond skip-gram with negative sampling: CBOW, the full softmax,
hierarchical softmax, GloVe and FastText's subword vectors.

Every model keeps input vectors v_w (the embeddings) and output vectors u (one per word, or one
per inner node of a Huffman tree for hierarchical softmax), and returns the mean loss of a batch
from ``forward(inputs, targets, negatives)``:

    skip-gram, negative sampling: -ln s(u_o . v_c) - sum_i ln s(-u_{n_i} . v_c)
    CBOW: the same with v_c replaced by the mean h of the context vectors, predicting the centre
    full softmax:   -ln softmax(U v_c)_o                        (cost O(V) per pair)
    hierarchical softmax: -sum_{nodes n on o's path} ln s(+-u_n . v_c)  (cost O(log V))
    FastText: skip-gram whose v_c is the mean of the vectors of c's character n-grams

GloVe (Pennington et al. 2014) instead fits log co-occurrence counts by weighted least squares:

    J = sum_{ij: X_ij > 0} f(X_ij) (w_i . w~_j + b_i + b~_j - ln X_ij)^2,
    f(x) = min(1, (x / x_max)^alpha).
"""

import heapq

import torch
from torch import nn
from torch.nn import functional as F

from .device import seeded
from .embeddings import SkipGramNS, train_negative_sampling
from .validation import check_int, check_tensor


def cbow_windows(ids: torch.Tensor, window: int):
    """(contexts, centres) for CBOW: contexts (N, 2 window) holds the ids around each position
    (-1 where the window passes the end of the text), centres (N,) the word to predict."""
    window = check_int("window", window, min_value=1)
    ids = check_tensor("ids", ids, ndim=1)
    n = len(ids)
    pos = torch.arange(n)
    offsets = torch.cat([torch.arange(-window, 0), torch.arange(1, window + 1)])
    j = pos[:, None] + offsets[None, :]
    inside = (j >= 0) & (j < n)
    contexts = torch.where(inside, ids[j.clamp(0, n - 1)], torch.full_like(j, -1))
    return contexts, ids.clone()


class CBOWNS(SkipGramNS):
    """Continuous bag of words: the mean of the context's input vectors predicts the centre,
    with negative sampling. Padding (-1) in a context window is ignored."""

    def context_vector(self, contexts):
        mask = (contexts >= 0).unsqueeze(-1).float()
        summed = (self.v(contexts.clamp(min=0)) * mask).sum(1)
        return summed / mask.sum(1).clamp(min=1.0)

    def forward(self, contexts, centres, negatives):
        check_tensor("contexts", contexts, ndim=2)
        h = self.context_vector(contexts)  # (B, d)
        pos = (self.u(centres) * h).sum(-1)
        neg = torch.bmm(self.u(negatives), h.unsqueeze(-1)).squeeze(-1)
        return -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(-1)).mean()


class SkipGramSoftmax(SkipGramNS):
    """Skip-gram with the full softmax over the vocabulary: O(V) dot products per pair."""

    def forward(self, centres, contexts, negatives=None):
        return F.cross_entropy(self.v(centres) @ self.u.weight.T, contexts)


def huffman_paths(counts):
    """Huffman code of each word: the inner nodes on its root-to-leaf path and the branch taken
    at each (0 or 1). Returns (nodes, codes, lengths), nodes and codes padded to (V, max depth).
    Frequent words get short paths, so the mean cost per word is close to the entropy in bits."""
    counts = [float(c) for c in torch.as_tensor(counts).tolist()]
    V = len(counts)
    if V < 2:
        raise ValueError(f"a Huffman tree needs at least 2 words, got {V}")
    heap = [(c, w) for w, c in enumerate(counts)]  # ids >= V are inner nodes
    heapq.heapify(heap)
    parent, branch, next_id = {}, {}, V
    while len(heap) > 1:
        c0, a = heapq.heappop(heap)
        c1, b = heapq.heappop(heap)
        parent[a], branch[a] = next_id, 0
        parent[b], branch[b] = next_id, 1
        heapq.heappush(heap, (c0 + c1, next_id))
        next_id += 1
    root = heap[0][1]
    paths = []
    for w in range(V):
        nodes, codes, x = [], [], w
        while x != root:
            nodes.append(parent[x] - V)  # inner nodes numbered 0 .. V-2
            codes.append(branch[x])
            x = parent[x]
        paths.append((nodes[::-1], codes[::-1]))
    depth = max(len(n) for n, _ in paths)
    nodes = torch.zeros(V, depth, dtype=torch.long)
    codes = torch.zeros(V, depth)
    lengths = torch.tensor([len(n) for n, _ in paths])
    for w, (n, c) in enumerate(paths):
        nodes[w, : len(n)] = torch.tensor(n)
        codes[w, : len(c)] = torch.tensor(c, dtype=torch.float)
    return nodes, codes, lengths


class SkipGramHS(nn.Module):
    """Skip-gram with hierarchical softmax: p(o | c) is the product, over the inner nodes n on
    o's Huffman path, of s(u_n . v_c) for a left turn and s(-u_n . v_c) for a right turn."""

    def __init__(self, counts, dim: int = 50):
        super().__init__()
        nodes, codes, lengths = huffman_paths(counts)
        V = len(lengths)
        self.register_buffer("nodes", nodes)
        self.register_buffer("sign", 1.0 - 2.0 * codes)  # code 0 -> +1, code 1 -> -1
        self.register_buffer("on_path", torch.arange(nodes.shape[1])[None, :] < lengths[:, None])
        self.v = nn.Embedding(V, dim)
        self.u = nn.Embedding(V - 1, dim)
        nn.init.uniform_(self.v.weight, -0.5 / dim, 0.5 / dim)
        nn.init.zeros_(self.u.weight)

    def log_prob(self, centres, words):
        """ln p(word | centre) for paired 1-D tensors of ids."""
        scores = (self.u(self.nodes[words]) * self.v(centres).unsqueeze(1)).sum(-1)
        return (F.logsigmoid(self.sign[words] * scores) * self.on_path[words]).sum(-1)

    def forward(self, centres, contexts, negatives=None):
        return -self.log_prob(centres, contexts).mean()

    @property
    def embeddings(self) -> torch.Tensor:
        return self.v.weight.detach()


def fnv1a(text: str) -> int:
    """32-bit FNV-1a hash of the UTF-8 bytes (the hash fastText uses; Python's own ``hash`` of a
    string changes from one process to the next)."""
    h = 2166136261
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 16777619) % 2**32
    return h


def char_ngrams(word: str, n_min: int = 3, n_max: int = 5) -> list[str]:
    """The character n-grams of '<word>' (with boundary marks), n_min <= n <= n_max."""
    marked = f"<{word}>"
    return [marked[i : i + n] for n in range(n_min, n_max + 1) for i in range(len(marked) - n + 1)]


class FastTextNS(SkipGramNS):
    """Skip-gram with negative sampling whose centre vector is the mean of the vectors of the
    word itself and of its character n-grams (hashed into ``buckets`` rows), so that any word,
    seen or not, gets a vector from its spelling."""

    def __init__(self, words, dim: int = 50, buckets: int = 20_000, n_min: int = 3, n_max: int = 5):
        super().__init__(len(words), dim)
        self.buckets, self.n_range = check_int("buckets", buckets, min_value=1), (n_min, n_max)
        self.grams = nn.Embedding(buckets, dim)
        nn.init.uniform_(self.grams.weight, -0.5 / dim, 0.5 / dim)
        rows = [self.gram_ids(w) for w in words]
        width = max(len(r) for r in rows)
        self.register_buffer(
            "word_grams", torch.tensor([r + [-1] * (width - len(r)) for r in rows])
        )

    def gram_ids(self, word: str) -> list[int]:
        return [fnv1a(g) % self.buckets for g in char_ngrams(word, *self.n_range)]

    def centre_vectors(self, centres):
        grams = self.word_grams[centres]  # (B, G), -1 = padding
        mask = (grams >= 0).unsqueeze(-1).float()
        total = self.v(centres) + (self.grams(grams.clamp(min=0)) * mask).sum(1)
        return total / (1.0 + mask.sum(1))

    def forward(self, centres, contexts, negatives):
        vc = self.centre_vectors(centres)
        pos = (self.u(contexts) * vc).sum(-1)
        neg = torch.bmm(self.u(negatives), vc.unsqueeze(-1)).squeeze(-1)
        return -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(-1)).mean()

    def vector(self, word: str) -> torch.Tensor:
        """A vector for any word from its n-grams alone (for an unseen word there is nothing
        else; a seen word's own row is left out here too, so both are treated alike)."""
        ids = torch.tensor(self.gram_ids(word), device=self.grams.weight.device)
        return self.grams(ids).mean(0).detach()

    @property
    def embeddings(self) -> torch.Tensor:
        all_words = torch.arange(self.v.num_embeddings, device=self.v.weight.device)
        return self.centre_vectors(all_words).detach()


def train_word2vec(model, ids, counts, *, cbow: bool = False, **kwargs):
    """Train any model of this module (or ``SkipGramNS``) on the 1-D id tensor ``ids`` with
    ``embeddings.train_negative_sampling``: skip-gram pairs with dynamic windows, or with
    ``cbow=True`` CBOW windows. Returns the mean loss per epoch."""
    pairs = (lambda text, window, generator: cbow_windows(text, window)) if cbow else None
    return train_negative_sampling(model, ids, counts, pairs=pairs, **kwargs)


def cooccurrence(ids: torch.Tensor, vocab_size: int, window: int = 4) -> torch.Tensor:
    """Dense (V, V) co-occurrence counts within ``window`` words, each pair weighted by
    1 / distance as GloVe does (symmetric)."""
    window = check_int("window", window, min_value=1)
    ids = check_tensor("ids", ids, ndim=1).cpu()
    X = torch.zeros(vocab_size * vocab_size, dtype=torch.double)
    for d in range(1, window + 1):
        a, b = ids[:-d], ids[d:]
        for i, j in ((a, b), (b, a)):
            X.index_add_(0, i * vocab_size + j, torch.full((len(i),), 1.0 / d, dtype=torch.double))
    return X.view(vocab_size, vocab_size)


def fit_glove(
    X,
    dim: int = 50,
    *,
    x_max: float = 10.0,
    alpha: float = 0.75,
    steps: int = 300,
    lr: float = 0.05,
    seed: int = 0,
    device=None,
):
    """GloVe by full-batch Adam on the nonzero entries of X. Returns (W + W~, loss per step)."""
    X = check_tensor("X", torch.as_tensor(X), ndim=2)
    dev = device if device is not None else torch.device("cpu")
    i, j = X.nonzero(as_tuple=True)
    x = X[i, j].float().to(dev)
    i, j = i.to(dev), j.to(dev)
    weight = (x / x_max).pow(alpha).clamp(max=1.0)
    target = x.log()
    g = torch.Generator().manual_seed(seeded(seed))
    V = X.shape[0]
    W, W_ctx = ((torch.rand(V, dim, generator=g) - 0.5) / dim for _ in range(2))
    params = [
        W.to(dev).requires_grad_(),
        W_ctx.to(dev).requires_grad_(),
        torch.zeros(V, device=dev, requires_grad=True),
        torch.zeros(V, device=dev, requires_grad=True),
    ]
    opt = torch.optim.Adam(params, lr=lr)
    history = []
    for _ in range(steps):
        w, w_ctx, b, b_ctx = params
        pred = (w[i] * w_ctx[j]).sum(-1) + b[i] + b_ctx[j]
        loss = (weight * (pred - target) ** 2).sum() / len(x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.append(loss.item())
    return (params[0] + params[1]).detach(), history
