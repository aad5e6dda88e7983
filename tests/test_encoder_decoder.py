import math

import pytest
import torch
from torch import nn

from course_lib import device, set_seed
from course_lib.data.sequences import BOS, EOS, PAD, digit_task
from course_lib.models.attention import causal_mask
from course_lib.models.encoder_decoder import (
    DecoderBlock,
    TransformerSeq2Seq,
    train_transformer_seq2seq,
    warmup_cosine,
)
from course_lib.models.seq2seq import exact_match, train_seq2seq
from tests.tolerances import assert_close

DEV = device()
F64 = torch.float64


def _source(n=3, S=6, vocab=13, lengths=(6, 4, 2)):
    g = torch.Generator().manual_seed(0)
    src = torch.randint(3, vocab, (n, S), generator=g)
    src_len = torch.tensor(lengths)
    src[torch.arange(S)[None, :] >= src_len[:, None]] = PAD
    return src.to(DEV), src_len.to(DEV)


def _model(norm_first=True, **kw):
    set_seed(0)
    model = TransformerSeq2Seq(13, 16, 4, 2, 32, max_len=20, norm_first=norm_first, **kw)
    return model.to(DEV).eval()


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_block_matches_torch_decoder_layer(norm_first):
    set_seed(0)
    ref = nn.TransformerDecoderLayer(
        16, 4, 32, dropout=0.0, batch_first=True, norm_first=norm_first
    )
    ref = ref.to(DEV, F64).eval()
    mine = DecoderBlock(16, 4, 32, norm_first=norm_first).to(DEV, F64).load_from_torch(ref)
    y = torch.randn(3, 5, 16, device=DEV, dtype=F64)
    memory = torch.randn(3, 7, 16, device=DEV, dtype=F64)
    real = torch.arange(7, device=DEV)[None, :] < torch.tensor([7, 4, 1], device=DEV)[:, None]
    with torch.no_grad():
        expected = ref(y, memory, tgt_mask=~causal_mask(5, DEV), memory_key_padding_mask=~real)
        got = mine.eval()(y, memory, real[:, None, None, :])
    assert_close(got, expected, ops=64)


def test_cross_attention_equals_brute_force():
    """softmax over the real source positions of q_t . k_j / sqrt(d_k), head by head."""
    set_seed(0)
    block = DecoderBlock(8, 2, 16).to(DEV, F64)
    attn = block.cross_attn
    y = torch.randn(2, 3, 8, device=DEV, dtype=F64)
    memory = torch.randn(2, 5, 8, device=DEV, dtype=F64)
    lengths = [5, 2]
    real = torch.arange(5, device=DEV)[None, :] < torch.tensor(lengths, device=DEV)[:, None]
    got = attn(y, memory, memory, mask=real[:, None, None, :])
    expected = torch.zeros_like(got)
    for b, S in enumerate(lengths):
        q, k, v = attn.W_q(y[b]), attn.W_k(memory[b, :S]), attn.W_v(memory[b, :S])
        heads = []
        for r in range(2):
            cols = slice(4 * r, 4 * r + 4)
            scores = q[:, cols] @ k[:, cols].T / math.sqrt(4)
            heads.append(torch.softmax(scores, dim=-1) @ v[:, cols])
        expected[b] = attn.W_o(torch.cat(heads, dim=-1))
    assert_close(got, expected, ops=16)
    assert torch.all(attn.last_weights[1, :, :, 2:] == 0)  # padded keys get no weight


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
def test_full_model_matches_nn_transformer():
    """Pre-LN encoder and decoder stacks with a final LayerNorm each, as nn.Transformer."""
    model = _model(norm_first=True).to(F64)
    ref = nn.Transformer(16, 4, 2, 2, 32, dropout=0.0, batch_first=True, norm_first=True)
    ref.encoder.enable_nested_tensor = False
    ref = ref.to(DEV, F64).eval()
    for mine, theirs in zip(model.encoder, ref.encoder.layers, strict=True):
        mine.load_from_torch(theirs)
    for mine, theirs in zip(model.decoder, ref.decoder.layers, strict=True):
        mine.load_from_torch(theirs)
    model.enc_norm.load_state_dict(ref.encoder.norm.state_dict())
    model.dec_norm.load_state_dict(ref.decoder.norm.state_dict())
    src, src_len = _source()
    tgt_in = torch.randint(3, 13, (3, 4), device=DEV)
    tgt_in[:, 0] = BOS
    pad_mask = torch.arange(6, device=DEV)[None, :] >= src_len[:, None]
    with torch.no_grad():
        x = model._embed(model.src_embed, src, "src")
        y = model._embed(model.tgt_embed, tgt_in, "tgt_in")
        hidden = ref(
            x,
            y,
            tgt_mask=~causal_mask(4, DEV),
            src_key_padding_mask=pad_mask,
            memory_key_padding_mask=pad_mask,
        )
        assert_close(model(src, src_len, tgt_in), model.out(hidden), ops=256)


def test_decoder_does_not_see_the_future():
    model = _model()
    src, src_len = _source()
    tgt_in = torch.randint(3, 13, (3, 6), device=DEV)
    changed = tgt_in.clone()
    changed[:, 4:] = (changed[:, 4:] - 2) % 10 + 3  # other digits from position 4 on
    with torch.no_grad():
        a, b = model(src, src_len, tgt_in), model(src, src_len, changed)
    torch.testing.assert_close(a[:, :4], b[:, :4], rtol=0, atol=0)
    assert (a[:, 4:] - b[:, 4:]).abs().max() > 1e-3


def test_source_padding_does_not_change_the_output():
    model = _model()
    src, src_len = _source()
    tgt_in = torch.randint(3, 13, (3, 5), device=DEV)
    wider = torch.cat([src, torch.full((3, 4), PAD, device=DEV)], dim=1)
    garbage = wider.clone()
    pad_cols = torch.arange(10, device=DEV)[None, :] >= src_len[:, None]
    garbage[pad_cols] = 7  # whatever sits beyond src_len is masked out
    with torch.no_grad():
        expected = model(src, src_len, tgt_in)
        for other in (wider, garbage):  # garbage last, so last_weights are its weights
            assert_close(model(other, src_len, tgt_in), expected, ops=64)
    for block in model.decoder:
        assert torch.all(
            block.cross_attn.last_weights[pad_cols[:, None, None, :].expand(-1, 4, 5, -1)] == 0
        )


def test_the_source_matters():
    model = _model()
    src, src_len = _source()
    tgt_in = torch.randint(3, 13, (3, 5), device=DEV)
    other = src.clone()
    other[:, 0] = (other[:, 0] - 2) % 10 + 3
    with torch.no_grad():
        assert (model(src, src_len, tgt_in) - model(other, src_len, tgt_in)).abs().min() > 0


def test_greedy_is_teacher_forcing_on_its_own_output():
    model = _model()
    src, src_len = _source()
    tokens = model.greedy(src, src_len, 8)
    assert tokens.shape == (3, 8)
    bos = torch.full((3, 1), BOS, device=DEV)
    with torch.no_grad():
        again = model(src, src_len, torch.cat([bos, tokens[:, :-1].clamp(min=0)], 1)).argmax(-1)
    after_eos = (tokens == EOS).long().cumsum(1).roll(1, 1)
    after_eos[:, 0] = 0
    free = after_eos == 0
    torch.testing.assert_close(tokens[free], again[free])
    assert torch.all(tokens[~free] == PAD)


def test_train_seq2seq_and_exact_match_work_unchanged():
    pairs = digit_task(64, task="copy", min_len=2, max_len=5, seed=0)
    model = _model()
    history = train_seq2seq(model, pairs, epochs=1, batch_size=32, progress=False)
    assert len(history["train_loss"]) == 1
    ok = exact_match(model.greedy(pairs.src.to(DEV), pairs.src_len.to(DEV), 7), pairs.tgt[:, 1:])
    assert ok.shape == (64,)


def test_training_learns_copying():
    pairs = digit_task(512, task="copy", min_len=2, max_len=5, seed=0)
    model = _model().train()
    history = train_transformer_seq2seq(model, pairs, epochs=8, lr=5e-3, warmup=10, seed=0)
    assert not model.training
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]


def test_warmup_cosine():
    assert warmup_cosine(0, 100, 10) == pytest.approx(0.1)
    assert warmup_cosine(9, 100, 10) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.09)))
    assert warmup_cosine(50, 100, 10) == pytest.approx(0.5)
    assert warmup_cosine(0, 100, 0) == pytest.approx(1.0)


def test_bad_input_gets_clear_errors():
    model = _model()
    src, src_len = _source()
    tgt_in = torch.full((3, 2), BOS, device=DEV)
    with pytest.raises(ValueError, match="src_len must lie in"):
        model(src, torch.tensor([7, 4, 2], device=DEV), tgt_in)
    with pytest.raises(ValueError, match="src_len must lie in"):
        model(src, torch.tensor([6, 0, 2], device=DEV), tgt_in)
    with pytest.raises(ValueError, match="src_len"):
        model(src, src_len[:2], tgt_in)
    with pytest.raises(ValueError, match=r"src must lie in \[0, 13\)"):
        model(src + 10, src_len, tgt_in)
    with pytest.raises(ValueError, match="src"):
        model(src[0], src_len, tgt_in)
    with pytest.raises(ValueError, match="max_len=20"):
        model(src, src_len, torch.full((3, 21), BOS, device=DEV))
    with pytest.raises(ValueError, match="tgt_in"):
        model(src, src_len, tgt_in[:2])
    with pytest.raises(ValueError, match="max_len"):
        model.greedy(src, src_len, 21)
    with pytest.raises(ValueError, match="memory"):
        model.decoder[0](torch.randn(3, 2, 16, device=DEV), torch.randn(3, 4, 8, device=DEV))
    with pytest.raises(ValueError, match="num_layers"):
        TransformerSeq2Seq(13, num_layers=0)
