"""Decoding rules, checked against their definitions, against Hugging Face's logits
processors, and on hand-made models where the answer is known."""

import itertools
import math

import pytest
import torch

from course_lib import decoding


def test_top_k_keeps_k():
    z = torch.randn(4, 50, generator=torch.Generator().manual_seed(0))
    for k in (1, 5, 50):
        out = decoding.top_k_logits(z, k)
        assert (torch.isfinite(out).sum(-1) == k).all()
        kept = torch.isfinite(out)
        assert torch.equal(
            kept.nonzero()[:, 1].view(4, k).sort(-1).values,
            z.topk(k, dim=-1).indices.sort(-1).values,
        )
    with pytest.raises(ValueError, match="k must"):
        decoding.top_k_logits(z, 0)


def test_top_p_smallest_set():
    g = torch.Generator().manual_seed(1)
    for _ in range(20):
        z = torch.randn(30, generator=g) * 2
        p = torch.rand(1, generator=g).item()
        kept = torch.isfinite(decoding.top_p_logits(z, p))
        probs = z.softmax(-1)
        n = int(kept.sum())
        top = probs.sort(descending=True).values
        assert probs[kept].sum() >= p - 1e-6  # enough mass
        assert top[: n - 1].sum() < p  # and no smaller set of top tokens has it
        assert probs[kept].min() >= probs[~kept].max() if n < 30 else True
    with pytest.raises(ValueError, match="p must"):
        decoding.top_p_logits(torch.zeros(3), 0.0)


def test_against_hugging_face_processors():
    from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    z = torch.randn(3, 40, generator=torch.Generator().manual_seed(2))
    ids = torch.zeros(3, 1, dtype=torch.long)
    for p in (0.3, 0.8, 0.95):
        assert torch.equal(
            torch.isfinite(decoding.top_p_logits(z, p)),
            torch.isfinite(TopPLogitsWarper(p)(ids, z.clone())),
        )
    assert torch.equal(
        torch.isfinite(decoding.top_k_logits(z, 7)),
        torch.isfinite(TopKLogitsWarper(7)(ids, z.clone())),
    )
    assert torch.allclose(decoding.temperature_logits(z, 0.7), TemperatureLogitsWarper(0.7)(ids, z))


def _bigram_model(table):
    """logits_fn of a model whose next-token distribution depends on the last token only."""
    logp = torch.log(torch.as_tensor(table, dtype=torch.float64))

    def fn(ids):
        return logp[ids[:, -1]].float()

    return fn


def test_beam_one_is_greedy():
    torch.manual_seed(0)
    table = torch.softmax(torch.randn(6, 6) * 3, -1)
    fn = _bigram_model(table)
    prompt = torch.tensor([0])
    g = decoding.greedy(fn, prompt, 8)
    b, score = decoding.beam_search(fn, prompt, 8, beam=1)
    assert torch.equal(g, b)
    assert score == pytest.approx(decoding.sequence_log_prob(fn, prompt, g[1:]), rel=1e-5)


def test_beam_beats_greedy_where_greedy_fails():
    # from token 0: 'a' (1) is likelier than 'b' (2), but everything after 'a' is uncertain
    # while 'b' is always followed by 'c' (3); the best two-token string is "b c".
    table = [
        [0.0, 0.5, 0.4, 0.1],
        [0.0, 0.35, 0.35, 0.3],
        [0.0, 0.0, 0.0, 1.0],
        [0.25, 0.25, 0.25, 0.25],
    ]
    fn = _bigram_model([[max(p, 1e-9) for p in row] for row in table])
    prompt = torch.tensor([0])
    greedy = decoding.greedy(fn, prompt, 2)
    beam, score = decoding.beam_search(fn, prompt, 2, beam=2)
    assert greedy.tolist() == [0, 1, 1] and beam.tolist() == [0, 2, 3]
    assert math.exp(score) == pytest.approx(0.4, rel=1e-6)
    assert decoding.sequence_log_prob(fn, prompt, greedy[1:]) < score


def test_beam_search_finds_the_exhaustive_best():
    torch.manual_seed(3)
    table = torch.softmax(torch.randn(4, 4) * 2, -1)
    fn = _bigram_model(table)
    prompt = torch.tensor([0])
    best = max(
        itertools.product(range(4), repeat=3),
        key=lambda c: decoding.sequence_log_prob(fn, prompt, torch.tensor(c)),
    )
    beam, _ = decoding.beam_search(fn, prompt, 3, beam=16)  # wide enough to be exact
    assert beam[1:].tolist() == list(best)


def test_beam_search_eos_stops():
    table = [[0.1, 0.6, 0.3], [0.1, 0.1, 0.8], [0.9, 0.05, 0.05]]  # token 2 likes eos = 0
    fn = _bigram_model(table)
    out, score = decoding.beam_search(fn, torch.tensor([1]), 5, beam=3, eos=0)
    i = out.tolist().index(0)
    assert all(t == 0 for t in out.tolist()[i:])  # padded with eos once finished


def test_sample_is_reproducible_and_respects_top_k():
    table = torch.softmax(torch.randn(5, 5, generator=torch.Generator().manual_seed(0)), -1)
    fn = _bigram_model(table)
    a = decoding.sample(fn, torch.tensor([0]), 50, seed=3)
    assert torch.equal(a, decoding.sample(fn, torch.tensor([0]), 50, seed=3))
    g = decoding.sample(fn, torch.tensor([0]), 20, top_k=1)
    assert torch.equal(g, decoding.greedy(fn, torch.tensor([0]), 20))
    with pytest.raises(TypeError, match="int64"):
        decoding.greedy(fn, torch.tensor([0.0]), 2)
