import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import device, set_seed
from course_lib.models.attention import causal_mask
from course_lib.models.transformer import (
    CharTransformer,
    GroupedQueryAttention,
    KVCache,
    ModernLM,
    RMSNorm,
    SwiGLU,
    TransformerBlock,
    apply_rope,
    lm_batches,
    rope_matrix,
    sliding_window_mask,
)

DEV = device()


@pytest.mark.parametrize("norm_first", [False, True])
def test_block_matches_torch_encoder_layer(norm_first):
    set_seed(0)
    ref = (
        nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True, norm_first=norm_first)
        .to(DEV)
        .eval()
    )
    mine = TransformerBlock(16, 4, 32, norm_first=norm_first).to(DEV).load_from_torch(ref).eval()
    x = torch.randn(2, 5, 16, device=DEV)
    with torch.no_grad():
        torch.testing.assert_close(mine(x), ref(x))
        m = causal_mask(5, DEV)
        torch.testing.assert_close(mine(x, is_causal=True), ref(x, src_mask=~m))


def test_char_transformer_is_causal():
    set_seed(0)
    model = CharTransformer(11, d_model=16, num_heads=2, num_layers=2, context=8).to(DEV).eval()
    idx = torch.randint(0, 11, (1, 8), device=DEV)
    changed = idx.clone()
    changed[0, 5:] = (changed[0, 5:] + 1) % 11
    with torch.no_grad():
        torch.testing.assert_close(model(idx)[:, :5], model(changed)[:, :5])
        assert not torch.allclose(model(idx)[:, 5:], model(changed)[:, 5:])
    with pytest.raises(ValueError, match="context"):
        model(torch.zeros(1, 9, dtype=torch.long, device=DEV))
    out = model.generate(idx[:, :3], 4, generator=torch.Generator().manual_seed(0))
    assert out.shape == (1, 7)


def test_lm_batches_are_shifted():
    ids = torch.arange(100)
    x, y = lm_batches(ids, 10, 4, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (4, 10)
    torch.testing.assert_close(y, x + 1)


def test_rmsnorm_matches_torch():
    set_seed(0)
    mine, ref = RMSNorm(12, eps=1e-6).to(DEV), nn.RMSNorm(12, eps=1e-6).to(DEV)
    with torch.no_grad():
        mine.weight.uniform_(0.5, 1.5)
        ref.weight.copy_(mine.weight)
    x = torch.randn(3, 4, 12, device=DEV) * 3 + 1
    torch.testing.assert_close(mine(x), ref(x))


def test_swiglu_formula():
    set_seed(0)
    m = SwiGLU(6, 10).to(DEV)
    x = torch.randn(2, 6, device=DEV)
    W1, W2, W3 = m.W1.weight, m.W2.weight, m.W3.weight
    expected = (F.silu(x @ W1.T) * (x @ W3.T)) @ W2.T
    torch.testing.assert_close(m(x), expected)


def test_rope_interleaved_equals_block_matrix_and_rotate_half_is_a_permutation():
    set_seed(0)
    d = 8
    x = torch.randn(5, d)
    pos = torch.arange(5)
    rotated = apply_rope(x, pos, interleaved=True)
    for m in range(5):
        torch.testing.assert_close(rotated[m], rope_matrix(m, d) @ x[m])
    perm = torch.cat([torch.arange(0, d, 2), torch.arange(1, d, 2)])  # interleaved -> halves
    torch.testing.assert_close(apply_rope(x[:, perm], pos), rotated[:, perm])


def test_rope_scores_depend_only_on_offset():
    set_seed(0)
    q, k = torch.randn(1, 16), torch.randn(1, 16)

    def score(m, n):
        return (apply_rope(q, torch.tensor([m])) @ apply_rope(k, torch.tensor([n])).T).item()

    for offset in (0, 3, 7):
        ref = score(offset, 0)
        for shift in (1, 5, 40):
            assert abs(score(offset + shift, shift) - ref) < 1e-4
    assert abs(score(3, 0) - score(5, 0)) > 1e-3


@pytest.mark.parametrize("kv_heads", [4, 2, 1])
def test_gqa_matches_torch_sdpa(kv_heads):
    set_seed(0)
    att = GroupedQueryAttention(16, 4, kv_heads, rope=False).to(DEV)
    x = torch.randn(2, 6, 16, device=DEV)
    out = att(x)
    q = att.W_q(x).view(2, 6, 4, 4).transpose(1, 2)
    k = att.W_k(x).view(2, 6, kv_heads, 4).transpose(1, 2)
    v = att.W_v(x).view(2, 6, kv_heads, 4).transpose(1, 2)
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    torch.testing.assert_close(out, att.W_o(ref.transpose(1, 2).reshape(2, 6, 16)))
    with pytest.raises(ValueError, match="divisible"):
        GroupedQueryAttention(16, 4, 3)


def test_sliding_window_mask():
    m = sliding_window_mask(8, 6)
    assert m.sum(1).tolist() == [1, 2, 3, 4, 4, 4, 4, 4]
    assert not m[7, 3] and m[7, 4]
    b = sliding_window_mask(8, 2, causal=False, global_tokens=[0])
    assert b[0].all() and b[:, 0].all() and b[4].tolist() == [1, 0, 0, 1, 1, 1, 0, 0]
    with pytest.raises(ValueError, match="even"):
        sliding_window_mask(8, 3)


@pytest.mark.parametrize("window", [None, 4])
def test_kv_cache_generation_equals_full(window):
    set_seed(0)
    model = ModernLM(20, d_model=16, num_heads=4, num_kv_heads=2, num_layers=2, window=window).to(
        DEV
    )
    prompt = torch.randint(0, 20, (2, 5), device=DEV)
    a = model.generate(prompt, 8, use_cache=True)
    b = model.generate(prompt, 8, use_cache=False)
    assert torch.equal(a, b)
    cache = KVCache(2)
    with torch.no_grad():
        step = torch.cat([model(prompt[:, :3], cache=cache), model(prompt[:, 3:], cache=cache)], 1)
        torch.testing.assert_close(step, model(prompt))
    assert len(cache) == 5 and cache.numel() == 2 * 2 * 2 * 2 * 5 * 4
