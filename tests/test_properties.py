"""Property-based tests (Hypothesis): course_lib against torch on generated inputs.

The profile is derandomized, so every run tries the same examples (reproducible CI), with a
small example budget and no per-example deadline: the whole file takes a few seconds on one
core. Computations are compared in float64, so the tolerances are round-off only.
"""

import math

import pytest
import torch
import torch.nn.functional as F

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from course_lib import bpe, conv, decoding, optim  # noqa: E402
from course_lib.models import attention as A  # noqa: E402

settings.register_profile(
    "course", derandomize=True, deadline=None, max_examples=25, database=None, print_blob=True
)
settings.load_profile("course")

F64 = torch.float64


def _tensor(seed, *shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


# -- convolution and pooling -------------------------------------------------------------------
@st.composite
def conv_cases(draw):
    k = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    s = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    p = draw(st.tuples(st.integers(0, 2), st.integers(0, 2)))
    d = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    # the input must hold at least one dilated kernel after padding
    h = draw(st.integers(max(1, d[0] * (k[0] - 1) + 1 - 2 * p[0]), 9))
    w = draw(st.integers(max(1, d[1] * (k[1] - 1) + 1 - 2 * p[1]), 9))
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return k, s, p, d, (2, c_in, h, w), c_out, draw(st.integers(0, 2**16))


@given(conv_cases())
def test_conv_matches_torch(case):
    k, s, p, d, shape, c_out, seed = case
    x, weight = _tensor(seed, *shape), _tensor(seed + 1, c_out, shape[1], *k)
    bias = _tensor(seed + 2, c_out)
    ref = F.conv2d(x, weight, bias, stride=s, padding=p, dilation=d)
    torch.testing.assert_close(conv.conv2d_im2col(x, weight, bias, s, p, d), ref)
    torch.testing.assert_close(conv.conv2d_loops(x, weight, bias, s, p, d), ref)


@st.composite
def pool_cases(draw):
    k = draw(st.tuples(st.integers(1, 4), st.integers(1, 4)))
    s = draw(st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    p = draw(st.tuples(st.integers(0, k[0] // 2), st.integers(0, k[1] // 2)))
    h, w = draw(st.integers(k[0], 10)), draw(st.integers(k[1], 10))
    return k, s, p, (2, 3, h, w), draw(st.integers(0, 2**16))


@given(pool_cases())
def test_pooling_matches_torch(case):
    k, s, p, shape, seed = case
    x = _tensor(seed, *shape)
    torch.testing.assert_close(conv.max_pool2d(x, k, s, p), F.max_pool2d(x, k, s, p))
    torch.testing.assert_close(conv.avg_pool2d(x, k, s, p), F.avg_pool2d(x, k, s, p))


# -- attention with random masks ---------------------------------------------------------------
@given(
    st.integers(1, 6), st.integers(1, 6), st.integers(1, 8), st.integers(0, 2**16), st.booleans()
)
def test_attention_with_random_masks_matches_torch(Tq, Tk, d, seed, causal):
    q, k, v = (
        _tensor(seed, 2, 3, Tq, d),
        _tensor(seed + 1, 2, 3, Tk, d),
        _tensor(seed + 2, 2, 3, Tk, 5),
    )
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(2, 1, Tq, Tk, generator=g) < 0.6
    ours, weights = A.scaled_dot_product_attention(q, k, v, mask, is_causal=causal)
    if causal:
        mask = mask & torch.ones(Tq, Tk, dtype=torch.bool).tril()
    empty = ~mask.any(-1, keepdim=True)  # rows that may attend nowhere get zero weights
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask | empty)
    torch.testing.assert_close(ours, torch.where(empty, torch.zeros_like(ref), ref))
    assert (weights[~mask.expand_as(weights)] == 0).all()
    torch.testing.assert_close(weights.sum(-1), (~empty).expand(2, 3, Tq, 1).squeeze(-1).double())


# -- optimizers with parameters that sometimes have no gradient --------------------------------
TORCH_OPTIMIZERS = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "adagrad": lambda ps: torch.optim.Adagrad(ps, lr=0.1),
    "rmsprop": lambda ps: torch.optim.RMSprop(ps, lr=0.01),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.1, weight_decay=0.01),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.1),
}
OURS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "adagrad": lambda ps: optim.AdaGrad(ps, lr=0.1),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01),
    "adam": lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.01),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.1),
}


@settings(max_examples=10)
@given(
    st.sampled_from(sorted(OURS)),
    st.lists(st.lists(st.booleans(), min_size=3, max_size=3), min_size=1, max_size=8),
    st.integers(0, 2**16),
)
def test_optimizers_match_torch_when_gradients_are_missing(name, has_grad, seed):
    start = [_tensor(seed + i, 4) for i in range(3)]
    ours = [s.clone().requires_grad_(True) for s in start]
    ref = [s.clone().requires_grad_(True) for s in start]
    opt, torch_opt = OURS[name](ours), TORCH_OPTIMIZERS[name](ref)
    for step, has in enumerate(has_grad):
        grads = [_tensor(seed + 100 * step + i, 4) for i in range(3)]
        for params in (ours, ref):
            for p, g, h in zip(params, grads, has, strict=True):
                p.grad = g.clone() if h else None
        opt.step()
        torch_opt.step()
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


# -- tokenizers on arbitrary unicode -----------------------------------------------------------
# arbitrary characters, mixed with pieces of the end-of-word marker and the marker itself
PIECES = st.text(st.characters(codec="utf-8"), max_size=3) | st.sampled_from(
    ["</w>", "</", "w>", "<", " ", "ab"]
)
WORDY = st.lists(PIECES, min_size=1, max_size=14).map("".join)


@given(WORDY, st.integers(0, 30))
def test_bpe_round_trips_arbitrary_unicode(text, num_merges):
    if not text.strip():
        return
    tok = bpe.BPETokenizer.train(text, num_merges, min_count=1)
    assert tok.decode(tok.encode(text)) == " ".join(bpe.pretokenize(text))
    vocab = bpe.word_dictionary(bpe.pretokenize(text))
    assert (
        bpe.learn_bpe(vocab, num_merges, min_count=1)[0]
        == bpe.learn_bpe_naive(vocab, num_merges)[0]
    )


# -- decoding filters over vocabulary sizes up to 50,000 ---------------------------------------
@settings(max_examples=15)
@given(
    st.integers(1, 50_000),
    st.just(1.0) | st.floats(0.01, 1.0),
    st.floats(0.1, 5.0),
    st.integers(0, 2**16),
)
@example(50_000, 1.0, 1.0, 0)  # the float32 running sum reaches 1 early here
@example(50_000, 0.999, 1.0, 1)
def test_top_p_keeps_the_smallest_set_with_mass_p(V, p, scale, seed):
    z = scale * torch.randn(V, generator=torch.Generator().manual_seed(seed))
    kept = torch.isfinite(decoding.top_p_logits(z, p))
    probs = z.double().softmax(-1)
    if p == 1:
        assert kept.all()
        return
    mass = probs[kept].sum()
    assert mass >= p or math.isclose(mass, p, rel_tol=1e-12)
    # minimal: without its least likely token the kept set falls short of p
    assert mass - probs[kept].min() < p
    # a nucleus: every kept token is at least as likely as every dropped one
    if (~kept).any():
        assert z[kept].min() >= z[~kept].max()


@settings(max_examples=15)
@given(st.integers(1, 50_000), st.data())
def test_top_k_keeps_exactly_k_distinct_logits(V, data):
    k = data.draw(st.integers(1, V))
    z = torch.randperm(V, generator=torch.Generator().manual_seed(V)).float()  # no ties
    kept = torch.isfinite(decoding.top_k_logits(z, k))
    assert kept.sum() == k and z[kept].min() == V - k


# -- detection: IoU and NMS (chapter 07b) -------------------------------------------------------
@given(seed=st.integers(0, 10_000), n=st.integers(0, 12), threshold=st.floats(0.0, 1.0))
def test_nms_keeps_no_overlapping_pair_and_drops_only_overlapped_boxes(seed, n, threshold):
    from course_lib.detection import box_iou, nms

    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=F64) * 10
    boxes = torch.cat([xy, xy + torch.rand(n, 2, generator=g, dtype=F64) * 6 + 0.1], 1)
    scores = torch.rand(n, generator=g, dtype=F64)
    iou = box_iou(boxes, boxes)
    assert torch.allclose(iou, iou.T) and ((0 <= iou) & (iou <= 1 + 1e-12)).all()
    keep = nms(boxes, scores, threshold).tolist()
    assert keep == sorted(keep, key=lambda i: -float(scores[i]))
    for a in keep:
        for b in keep:
            assert a == b or iou[a, b] <= threshold
    for i in set(range(n)) - set(keep):  # each dropped box overlaps a better kept one
        assert any(iou[i, k] > threshold and scores[k] >= scores[i] for k in keep)
