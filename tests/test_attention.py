import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import device, set_seed
from course_lib.models.attention import (
    AdditiveAttention,
    AttentionPooling,
    MultiHeadAttention,
    MultiplicativeAttention,
    causal_mask,
    masked_softmax,
    merge_heads,
    scaled_dot_product_attention,
    sinusoidal_encoding,
    split_heads,
)

DEV = device()


def test_sdpa_matches_torch_with_and_without_masks():
    set_seed(0)
    q, k, v = (torch.randn(2, 3, 5, 8, device=DEV) for _ in range(3))
    mask = torch.rand(2, 1, 5, 5, device=DEV) > 0.3
    mask[..., 0] = True  # every row keeps one key
    for kwargs in ({}, {"is_causal": True}):
        out, w = scaled_dot_product_attention(q, k, v, **kwargs)
        torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, **kwargs))
        torch.testing.assert_close(w.sum(-1), torch.ones(2, 3, 5, device=DEV))
    out, _ = scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))


def test_causal_output_ignores_the_future():
    set_seed(0)
    x = torch.randn(1, 6, 4, device=DEV, requires_grad=True)
    out, w = scaled_dot_product_attention(x, x, x, is_causal=True)
    out[0, 2].sum().backward()
    assert x.grad[0, 3:].abs().max() == 0
    assert x.grad[0, :3].abs().max() > 0
    assert torch.all(w[0].triu(1) == 0)


def test_masked_softmax_errors_and_empty_rows():
    s = torch.randn(3, 4)
    with pytest.raises(TypeError, match="boolean"):
        masked_softmax(s, torch.ones(3, 4))
    with pytest.raises(ValueError, match="broadcast"):
        masked_softmax(s, torch.ones(2, 4, dtype=torch.bool))
    mask = torch.ones(3, 4, dtype=torch.bool)
    mask[1] = False
    w = masked_softmax(s, mask)
    assert torch.all(w[1] == 0) and torch.allclose(w[0].sum(), torch.tensor(1.0))


def test_split_merge_heads_roundtrip_and_error():
    x = torch.randn(2, 5, 12)
    h = split_heads(x, 3)
    assert h.shape == (2, 3, 5, 4)
    torch.testing.assert_close(h[:, 1], x[..., 4:8])
    torch.testing.assert_close(merge_heads(h), x)
    with pytest.raises(ValueError, match="num_heads"):
        split_heads(x, 5)


@pytest.mark.parametrize("causal", [False, True])
def test_multihead_matches_torch(causal):
    set_seed(0)
    ref = nn.MultiheadAttention(16, 4, batch_first=True).to(DEV)
    mine = MultiHeadAttention(16, 4).to(DEV).load_from_torch(ref)
    x = torch.randn(3, 7, 16, device=DEV)
    mask = causal_mask(7, DEV) if causal else None
    ref_out, ref_w = ref(
        x,
        x,
        x,
        attn_mask=None if mask is None else ~mask,
        average_attn_weights=False,
        need_weights=True,
    )
    out = mine(x, mask=mask)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(mine.last_weights, ref_w)


def test_multihead_cross_attention_matches_torch():
    set_seed(1)
    ref = nn.MultiheadAttention(8, 2, batch_first=True).to(DEV)
    mine = MultiHeadAttention(8, 2).to(DEV).load_from_torch(ref)
    q, kv = torch.randn(2, 3, 8, device=DEV), torch.randn(2, 6, 8, device=DEV)
    torch.testing.assert_close(mine(q, kv, kv), ref(q, kv, kv)[0])


def test_score_modules_shapes_and_masks():
    set_seed(0)
    q, keys = torch.randn(4, 6), torch.randn(4, 9, 5)
    mask = torch.ones(4, 9, dtype=torch.bool)
    mask[:, 7:] = False
    for att in (AdditiveAttention(6, 5, 8), MultiplicativeAttention(6, 5)):
        c, w = att(q, keys, mask=mask)
        assert c.shape == (4, 5) and w.shape == (4, 9)
        assert torch.all(w[:, 7:] == 0)
        torch.testing.assert_close(c, torch.einsum("bt,btd->bd", w, keys))
    pool = AttentionPooling(5)
    c, w = pool(keys)
    torch.testing.assert_close(w.sum(-1), torch.ones(4))
    with pytest.raises(ValueError, match="shape"):
        pool(keys[0])


def test_multiplicative_equals_bilinear_formula():
    set_seed(0)
    att = MultiplicativeAttention(3, 4)
    u, h = torch.randn(1, 3), torch.randn(1, 5, 4)
    W = att.W.weight  # (3, 4): score = u^T W h / sqrt(4)
    scores = torch.stack([u[0] @ W @ h[0, j] for j in range(5)]) / 2
    torch.testing.assert_close(att(u, h)[1][0], torch.softmax(scores, 0))


def test_sinusoidal_encoding_values():
    pe = sinusoidal_encoding(50, 16)
    assert pe.shape == (50, 16)
    torch.testing.assert_close(pe[0, 0::2], torch.zeros(8))
    torch.testing.assert_close(pe[0, 1::2], torch.ones(8))
    torch.testing.assert_close(pe[7, 2], torch.sin(torch.tensor(7 / 10000 ** (2 / 16))))
    with pytest.raises(ValueError, match="even"):
        sinusoidal_encoding(4, 5)


@pytest.mark.parametrize("score", ["additive", "multiplicative"])
def test_attention_seq2seq_weights_ignore_padding(score):
    from course_lib.data.sequences import digit_task
    from course_lib.models.attention import AttentionSeq2Seq

    set_seed(0)
    pairs = digit_task(6, task="reverse", min_len=2, max_len=7, seed=0).to(DEV)
    model = AttentionSeq2Seq(13, 8, 16, score=score).to(DEV)
    logits = model(pairs.src, pairs.src_len, pairs.tgt[:, :-1])
    assert logits.shape == (6, 8, 13)
    tokens, w = model.greedy(pairs.src, pairs.src_len, 8, return_weights=True)
    assert w.shape == (6, 8, 7)
    pad = torch.arange(7, device=DEV)[None, :] >= pairs.src_len[:, None]
    assert torch.all(w.masked_select(pad[:, None, :].expand_as(w)) == 0)
    torch.testing.assert_close(w.sum(-1), torch.ones(6, 8, device=DEV))
    with pytest.raises(ValueError, match="score"):
        AttentionSeq2Seq(13, score="cosine")
