"""Visible checks for chapter 15 (large language models)."""

import torch

from ..checks import case

SENNRICH = {
    ("l", "o", "w", "</w>"): 5,
    ("l", "o", "w", "e", "r", "</w>"): 2,
    ("n", "e", "w", "e", "s", "t", "</w>"): 6,
    ("w", "i", "d", "e", "s", "t", "</w>"): 3,
}


# ----------------------------------------------------------------------------- llm.bpe_merge_step
@case("llm.bpe_merge_step", hint="Return a pair (best_pair, new_vocab); best_pair is a 2-tuple.")
def merge_step_returns_pair_and_vocab(fn):
    out = fn(dict(SENNRICH))
    assert isinstance(out, tuple) and len(out) == 2, "return (best_pair, new_vocab)"
    pair, vocab = out
    assert isinstance(pair, tuple) and len(pair) == 2, (
        f"best_pair should be a 2-tuple, got {pair!r}"
    )
    assert isinstance(vocab, dict), "new_vocab should be a dict {symbols tuple: frequency}"


@case("llm.bpe_merge_step", hint="Weight every adjacent pair by the frequency of its word.")
def merge_step_first_merge_of_the_paper(fn):
    pair, _ = fn(dict(SENNRICH))
    assert pair == ("e", "s"), f"the first merge of the paper's toy example is not {pair!r}"


@case("llm.bpe_merge_step", hint="Merge every occurrence in every word and keep the frequencies.")
def merge_step_rewrites_words(fn):
    _, vocab = fn(dict(SENNRICH))
    assert sum(vocab.values()) == 16, "the total word frequency changed"
    assert ("n", "e", "w", "es", "t", "</w>") in vocab, "'newest' was not rewritten correctly"
    assert ("l", "o", "w", "</w>") in vocab, "a word without the pair must stay as it is"


@case(
    "llm.bpe_merge_step",
    hint="Break ties by the pair that occurs first (dict order of words, "
    "then left to right in the word).",
)
def merge_step_ties(fn):
    pair, _ = fn({("x", "y", "z"): 1, ("a", "b"): 1})
    assert pair == ("x", "y"), f"with all counts equal, {pair!r} is not the first pair"


@case("llm.bpe_merge_step", hint="Scan left to right and do not reuse a symbol in two merges.")
def merge_step_overlapping(fn):
    pair, vocab = fn({("a", "a", "a"): 2})
    assert pair == ("a", "a") and vocab == {("aa", "a"): 2}, "'a a a' should become 'aa a'"


# ----------------------------------------------------------------------------- llm.top_p
@case("llm.top_p", hint="Return logits of the same shape, -inf outside the nucleus.")
def top_p_shape(fn):
    z = torch.randn(3, 10)
    out = fn(z, 0.5)
    assert out.shape == z.shape, f"expected shape {tuple(z.shape)}, got {tuple(out.shape)}"
    assert torch.equal(out[torch.isfinite(out)], z[torch.isfinite(out)]), (
        "kept logits must not change"
    )


@case("llm.top_p", hint="The most likely token is always kept; p = 1 keeps everything.")
def top_p_extremes(fn):
    z = torch.tensor([[0.0, 3.0, 1.0, -2.0]])
    assert torch.isfinite(fn(z, 1e-6)).sum() == 1 and torch.isfinite(fn(z, 1e-6))[0, 1]
    assert torch.isfinite(fn(z, 1.0)).all(), "p = 1 should keep every token"


@case("llm.top_p", hint="Keep the smallest set of top tokens whose probabilities sum to >= p.")
def top_p_smallest_set(fn):
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    z = probs.log()
    for p, n in ((0.45, 1), (0.6, 2), (0.75, 2), (0.85, 3), (0.97, 4)):
        kept = int(torch.isfinite(fn(z, p)).sum())
        assert kept == n, f"for p = {p} the nucleus of (0.5, 0.3, 0.15, 0.05) has the wrong size"


@case(
    "llm.top_p", hint="Work row by row: each row of a batch has its own nucleus, in its own order."
)
def top_p_rows_and_order(fn):
    z = torch.tensor([[0.0, 0.0, 5.0], [5.0, 0.0, 0.0]])
    kept = torch.isfinite(fn(z, 0.9))
    assert kept.tolist() == [[False, False, True], [True, False, False]], "wrong tokens kept"


# ----------------------------------------------------------------------------- llm.mlm_mask
def _run_mlm(fn, n=100_000, vocab=40, seed=0):
    ids = torch.randint(2, vocab, (n,), generator=torch.Generator().manual_seed(123))
    out = fn(ids.clone(), 1, vocab, torch.Generator().manual_seed(seed))
    assert isinstance(out, tuple) and len(out) == 2, "return (inputs, labels)"
    return ids, out[0], out[1]


@case("llm.mlm_mask", hint="Return (inputs, labels), both of the same shape as ids.")
def mlm_shapes(fn):
    ids, inputs, labels = _run_mlm(fn, n=1000)
    assert inputs.shape == ids.shape and labels.shape == ids.shape, "wrong shapes"


@case("llm.mlm_mask", hint="Select each position with probability 0.15; labels = -100 elsewhere.")
def mlm_selection_rate(fn):
    ids, inputs, labels = _run_mlm(fn)
    sel = labels != -100
    rate = sel.float().mean().item()
    assert abs(rate - 0.15) < 0.01, f"{rate:.3f} of the positions are selected"
    assert torch.equal(labels[sel], ids[sel]), "labels must hold the original ids"


@case("llm.mlm_mask", hint="Unselected positions keep their token.")
def mlm_unselected_unchanged(fn):
    ids, inputs, labels = _run_mlm(fn)
    assert torch.equal(inputs[labels == -100], ids[labels == -100]), "unselected tokens changed"


@case("llm.mlm_mask", hint="Of the selected tokens: 80 % [MASK], 10 % random, 10 % unchanged.")
def mlm_80_10_10(fn):
    ids, inputs, labels = _run_mlm(fn)
    sel = labels != -100
    masked = (inputs[sel] == 1).float().mean().item()
    same = (inputs[sel] == ids[sel]).float().mean().item()
    assert abs(masked - 0.8) < 0.02, f"{masked:.2f} of the selected tokens became [MASK]"
    assert abs(same - 0.1) < 0.02, f"{same:.2f} of the selected tokens were left unchanged"
    other = inputs[sel & (inputs != 1) & (inputs != ids)]
    assert other.numel() > 0 and len(other.unique()) > 10, "random replacements are not random"
