"""Chapter 15b: the attention-only transformer, its data, the head scores, and the text-to-text
tasks, against brute-force loops."""

import math

import pytest
import torch
import torch.nn.functional as F
from tolerances import assert_close
from torch.optim.optimizer import register_optimizer_step_pre_hook

from course_lib import induction as ind
from course_lib import text_to_text as t2t
from course_lib.grading.questions.icl import _brute_induction
from course_lib.grading.questions.icl import _causal_attention as reference_attention


def _causal_attention(T, seed=0):
    return reference_attention(torch.Generator().manual_seed(seed), T)


def test_model_is_causal_and_exposes_normalised_attention():
    torch.manual_seed(0)
    model = ind.AttentionOnlyTransformer(10, d_model=16, num_heads=2, context=12).double().eval()
    x = torch.randint(10, (3, 12))
    y = x.clone()
    y[:, 7:] = (y[:, 7:] + 1) % 10  # change the future only
    out_x, out_y = model(x), model(y)
    assert out_x.shape == (3, 12, 10)
    assert_close(out_x[:, :7], out_y[:, :7], ops=64)
    attn = model.attentions()
    assert len(attn) == 2 and attn[0].shape == (3, 2, 12, 12)
    assert_close(attn[1].sum(-1), torch.ones(3, 2, 12, dtype=torch.float64), ops=12)
    assert torch.all(attn[0].triu(1) == 0)


def test_model_rejects_bad_input():
    model = ind.AttentionOnlyTransformer(10, context=8)
    with pytest.raises(ValueError, match="exceeds the context"):
        model(torch.zeros(1, 9, dtype=torch.long))
    with pytest.raises(ValueError, match="idx"):
        model(torch.full((1, 4), 10))


def test_repeated_span_batch_copies_a_span_later():
    g = torch.Generator().manual_seed(0)
    tokens, first, second = ind.repeated_span_batch(200, 30, 7, 6, generator=g)
    assert tokens.shape == (200, 30) and int(tokens.max()) < 7
    assert torch.all(second >= first + 6) and torch.all(second + 6 <= 30) and torch.all(first >= 0)
    for row, a, b in zip(tokens, first.tolist(), second.tolist(), strict=True):
        assert torch.equal(row[a : a + 6], row[b : b + 6])
    assert len(set((second - first).tolist())) > 5  # the distance between the copies varies
    with pytest.raises(ValueError, match="length"):
        ind.repeated_span_batch(1, 10, 5, 6)


def test_span_losses_match_a_loop():
    g = torch.Generator().manual_seed(1)
    tokens, first, second = ind.repeated_span_batch(4, 20, 9, 5, generator=g)
    logits = torch.randn(4, 20, 9, generator=g, dtype=torch.float64)
    got = ind.span_losses(logits, tokens, first, second, 5)
    for start, value in zip((first, second), got, strict=True):
        terms = [
            F.cross_entropy(logits[b, t - 1 : t], tokens[b, t : t + 1]).item()
            for b in range(4)
            for t in range(int(start[b]) + 1, int(start[b]) + 5)
        ]
        assert math.isclose(value, sum(terms) / len(terms), rel_tol=1e-12)


def test_scores_match_loops():
    attn = _causal_attention(15)
    tokens = torch.tensor([1, 2, 3, 1, 2, 3, 4, 4, 0, 1, 2, 5, 6, 5, 0])
    want_prev = sum(float(attn[t, t - 1]) for t in range(1, 15)) / 14
    assert math.isclose(float(ind.previous_token_score(attn)), want_prev, rel_tol=1e-12)
    assert math.isclose(
        float(ind.induction_score(attn, tokens)), _brute_induction(attn, tokens), rel_tol=1e-12
    )
    assert float(ind.induction_score(attn, torch.arange(15))) == 0.0  # nothing repeats
    batched = torch.stack([attn, _causal_attention(15, 1)])[:, None]  # (2, 1 head, T, T)
    toks = torch.stack([tokens, tokens.flip(0)])[:, None]
    got = ind.induction_score(batched, toks)
    assert got.shape == (2, 1)
    assert math.isclose(
        float(got[1, 0]), _brute_induction(batched[1, 0], toks[1, 0]), rel_tol=1e-12
    )
    with pytest.raises(ValueError, match="T >= 2"):
        ind.previous_token_score(torch.ones(1, 1))


def test_head_scores_find_a_planted_circuit_shape():
    torch.manual_seed(0)
    model = ind.AttentionOnlyTransformer(8, d_model=16, num_heads=2, context=16)
    tokens, _, _ = ind.repeated_span_batch(5, 16, 8, 4, generator=torch.Generator().manual_seed(0))
    prev, induct = ind.head_scores(model, tokens)
    assert prev.shape == induct.shape == (2, 2)
    assert torch.all((prev >= 0) & (prev <= 1)) and torch.all((induct >= 0) & (induct <= 1))


def test_text_to_text_examples_and_mask():
    assert [t2t.solve(t, "3141") for t in t2t.TASKS] == ["3141", "1413", "1134", "4"]
    assert all(len(t2t.prompt(t, "0000")) == t2t.PROMPT_LEN for t in t2t.TASKS)
    ids, mask = t2t.examples(["rev", "max"], ["3141", "2718"])
    assert ids.shape == (2, t2t.SEQ_LEN) and mask.shape == (2, t2t.SEQ_LEN - 1)
    for row, m, want in zip(ids, mask, ("1413.", "8."), strict=True):
        assert "".join(t2t.decode(row[1:][m])) == want  # the targets are the answer and "."
    with pytest.raises(ValueError, match="task"):
        t2t.prompt("add", "1234")
    with pytest.raises(ValueError, match="vocabulary"):
        t2t.encode("rev 12#4 =")


def test_masked_lm_loss_matches_a_loop():
    g = torch.Generator().manual_seed(2)
    ids, mask, _ = t2t.mixture(3, g)
    logits = torch.randn(3, t2t.SEQ_LEN, len(t2t.CHARS), generator=g, dtype=torch.float64)
    terms = [
        F.cross_entropy(logits[b, t : t + 1], ids[b, t + 1 : t + 2]).item()
        for b in range(3)
        for t in range(t2t.SEQ_LEN - 1)
        if mask[b, t]
    ]
    assert math.isclose(
        t2t.masked_lm_loss(logits, ids, mask).item(), sum(terms) / len(terms), rel_tol=1e-12
    )


class _Oracle(torch.nn.Module):
    """A 'model' whose logits spell the right answer: tests the greedy decoder."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        out = torch.zeros(*x.shape, len(t2t.CHARS))
        for b, row in enumerate(x):
            text = t2t.decode(row)
            task, digits = text[:3], text[4:8]
            full = t2t.prompt(task, digits) + t2t.solve(task, digits) + "." * 6
            nxt = t2t.STOI[full[len(text)]]
            out[b, -1, nxt] = 1.0
        return out


def test_greedy_answers_and_exact_match_with_an_oracle():
    digits = t2t.random_digits(20, torch.Generator().manual_seed(3))
    for task in t2t.TASKS:
        assert t2t.exact_match(_Oracle(), task, digits) == 1.0


def test_train_takes_its_steps_decays_the_rate_and_checks_them():
    from course_lib.models.gpt import GPT

    torch.manual_seed(0)
    model = GPT(len(t2t.CHARS), d_model=16, num_heads=2, num_layers=1, context=t2t.SEQ_LEN)
    batch = t2t.mixture(16, torch.Generator().manual_seed(1))[:2]
    rates = []  # the rate of every optimiser step, read just before it is taken
    hook = register_optimizer_step_pre_hook(
        lambda opt, args, kwargs: rates.append(opt.param_groups[0]["lr"])
    )
    try:
        losses = t2t.train(model, lambda: batch, 40, lr=1e-2, warmup=4)
    finally:
        hook.remove()
    assert len(losses) == len(rates) == 40 and losses[-1] < 0.5 * losses[0]
    assert rates[:4] == pytest.approx([1e-2 * (t + 1) / 4 for t in range(4)])  # warm-up
    assert rates[4] == pytest.approx(1e-2) and rates[-1] < 1e-4  # then cosine to zero
    with pytest.raises(ValueError, match="steps"):
        t2t.train(model, lambda: batch, 0)


def test_prefix_blind_ceiling_matches_a_loop():
    digits = ["1234", "4321", "1111", "9090"]
    # 1234: cpy = srt, 1 of 2 others; 4321: rev = srt; 1111: cpy = rev = srt; 9090: all differ
    assert math.isclose(t2t.prefix_blind_ceiling(digits), (2 + 2 + 3 + 1) / 16)


def test_induction_score_matches_the_loop_on_many_random_inputs():
    """A property test without Hypothesis's machinery: 40 random (T, V) pairs, small
    vocabularies (many repeats) to large (few)."""
    g = torch.Generator().manual_seed(4)
    for k in range(40):
        T = int(torch.randint(2, 30, (1,), generator=g))
        V = int(torch.randint(1, 12, (1,), generator=g))
        attn = _causal_attention(T, seed=k)
        tokens = torch.randint(V, (T,), generator=g)
        want = _brute_induction(attn, tokens)
        assert math.isclose(
            float(ind.induction_score(attn, tokens)), want, rel_tol=1e-12, abs_tol=1e-15
        )
        targets = ind.induction_targets(tokens)
        assert torch.all((targets == -1) | ((targets >= 1) & (targets <= torch.arange(T))))
