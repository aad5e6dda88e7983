"""The small GPT, attention-mask builders and pretraining objectives."""

import pytest
import torch
from tolerances import allclose
from torch import nn

from course_lib import masks
from course_lib.models.gpt import GPT, AsCharLM, GPTBlock, window_cross_entropy
from course_lib.models.transformer import TransformerBlock


# -- masks -------------------------------------------------------------------------------------
def test_masks_against_definitions_and_pytorch():
    T = 6
    assert masks.full_mask(T).all()
    ref = nn.Transformer.generate_square_subsequent_mask(T) == 0
    assert torch.equal(masks.causal_mask(T), ref)
    pm = masks.prefix_mask(T, 3)
    for i in range(T):
        for j in range(T):
            assert bool(pm[i, j]) == (j <= i or j < 3)
    assert torch.equal(masks.prefix_mask(T, 0), ref) and masks.prefix_mask(T, T).all()
    with pytest.raises(ValueError, match="prefix"):
        masks.prefix_mask(T, 7)
    with pytest.raises(ValueError, match="T must"):
        masks.full_mask(0)


def test_padding_mask():
    m = masks.padding_mask([2, 4], 4)
    assert m.shape == (2, 1, 1, 4)
    assert m[0, 0, 0].tolist() == [True, True, False, False] and m[1].all()
    with pytest.raises(ValueError, match="lengths"):
        masks.padding_mask([0], 4)


def test_mlm_corrupt_statistics():
    ids = torch.randint(5, 50, (200_000,))
    ids[::10] = 0  # a "special" token that may never be selected
    g = torch.Generator().manual_seed(0)
    inputs, labels = masks.mlm_corrupt(ids, mask_id=1, vocab_size=50, special_ids=[0], generator=g)
    sel = labels != -100
    assert not sel[::10].any()
    assert abs(sel.float().mean().item() - 0.15 * 0.9) < 0.003
    assert torch.equal(labels[sel], ids[sel]) and torch.equal(inputs[~sel], ids[~sel])
    frac_mask = (inputs[sel] == 1).float().mean().item()
    frac_same = (inputs[sel] == ids[sel]).float().mean().item()
    assert abs(frac_mask - 0.8) < 0.01 and abs(frac_same - 0.1 - 0.1 / 50) < 0.01
    with pytest.raises(TypeError, match="int64"):
        masks.mlm_corrupt(ids.float(), mask_id=1, vocab_size=50)


def test_span_corruption_t5_example():
    words = "Thank you for inviting me to your party last week .".split()
    noise = [w in ("for", "inviting", "last") for w in words]
    src, tgt = masks.span_corrupt(words, noise)
    assert src == "Thank you <extra_id_0> me to your party <extra_id_1> week .".split()
    assert tgt == "<extra_id_0> for inviting <extra_id_1> last <extra_id_2>".split()
    with pytest.raises(ValueError, match="noise"):
        masks.span_corrupt(words, noise[:-1])


def test_random_span_noise():
    noise = masks.random_span_noise(
        50_000, density=0.15, mean_span=3.0, generator=torch.Generator().manual_seed(1)
    )
    starts = (noise[1:] & ~noise[:-1]).sum()
    assert abs(noise.float().mean() - 0.15) < 0.03
    assert 2.5 < noise.sum() / starts < 3.5


# -- the model ---------------------------------------------------------------------------------
def test_block_matches_chapter13_block():
    torch.manual_seed(0)
    ref = TransformerBlock(16, 4, 32, norm_first=True).eval()
    mine = GPTBlock(16, 4, 32, activation="relu").load_from_block(ref).eval()
    x = torch.randn(2, 7, 16)
    # sums of d_model = 16 terms through two sublayers of a few products each
    assert allclose(mine(x), ref(x, is_causal=True), ops=16 * 8)
    full = masks.full_mask(7)
    assert allclose(mine(x, full), ref(x, mask=full), ops=16 * 8)


@pytest.mark.parametrize("positions", ["learned", "rope"])
def test_gpt_is_causal_and_tied(positions):
    torch.manual_seed(0)
    gpt = GPT(11, d_model=16, num_heads=2, num_layers=2, context=12, positions=positions).eval()
    a = torch.randint(11, (3, 12))
    b = a.clone()
    b[:, 6:] = (b[:, 6:] + 1) % 11
    with torch.no_grad():
        la, lb = gpt(a), gpt(b)
    assert la.shape == (3, 12, 11)
    assert allclose(la[:, :6], lb[:, :6], ops=16 * 16) and not torch.allclose(la[:, 6:], lb[:, 6:])
    # a full mask lets late tokens change early predictions
    with torch.no_grad():
        fa, fb = gpt(a, masks.full_mask(12)), gpt(b, masks.full_mask(12))
    assert not torch.allclose(fa[:, :6], fb[:, :6])
    assert gpt.num_parameters() == sum(p.numel() for p in gpt.parameters() if p.requires_grad)
    assert all("head" not in n for n, _ in gpt.named_parameters())


def test_gpt_bad_input():
    gpt = GPT(5, d_model=8, num_heads=2, num_layers=1, context=4)
    with pytest.raises(ValueError, match="context"):
        gpt(torch.zeros(1, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="idx"):
        gpt(torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="positions"):
        GPT(5, positions="sinusoidal")


def test_gpt_learns_and_window_cross_entropy():
    from course_lib.models.rnn import train_char_lm

    torch.manual_seed(0)
    ids = torch.arange(5).repeat(200)  # 0 1 2 3 4 0 1 ...: perfectly predictable
    gpt = GPT(5, d_model=16, num_heads=2, num_layers=1, context=8, positions="rope")
    before = window_cross_entropy(gpt, ids, 8)
    train_char_lm(AsCharLM(gpt), ids, steps=60, batch_size=8, seq_len=8, lr=1e-2, progress=False)
    after = window_cross_entropy(gpt, ids, 8)
    assert before > 1.3 and after < 0.3 * before
    # the reference: the plain mean cross-entropy on the same windows
    w = ids[: 8 * ((len(ids) - 1) // 8) + 1]
    x = torch.stack([w[i : i + 8] for i in range(0, len(w) - 1, 8)])
    y = torch.stack([w[i + 1 : i + 9] for i in range(0, len(w) - 1, 8)])
    with torch.no_grad():
        ref = nn.functional.cross_entropy(gpt(x).flatten(0, 1), y.flatten()).item()
    assert after == pytest.approx(ref, rel=1e-5)


# -- fine-tuning ------------------------------------------------------------------------------
def test_topic_sentences_are_labelled_by_module_group():
    from course_lib import finetune

    sentences, labels, topics = finetune.topic_sentences(20, seed=0)
    assert len(sentences) == 80 and len(set(sentences)) == 80
    assert labels.bincount().tolist() == [20] * 4 and topics == list(finetune.TOPICS)


def test_cached_lower_layers_plus_top_layers_equal_the_full_encoder():
    from course_lib import finetune

    encoder, tokenizer = finetune.load_minilm(pretrained=True)
    batch = tokenizer(
        ["Open a socket.", "Return the square root of x, a float."],
        padding=True,
        return_tensors="pt",
    )
    states = finetune.lower_states(encoder, batch, n_frozen=4)
    clf = finetune.TopLayersClassifier(encoder, n_trainable=2, n_classes=3).eval()
    with torch.no_grad():
        h = states
        for layer in clf.layers:
            h = layer(h, finetune.additive_mask(batch["attention_mask"]))
        full = encoder(**batch).last_hidden_state
    # MiniLM: sums of 384 terms through the top layers
    assert allclose(h, full, ops=384 * 6)
    assert clf(states, batch["attention_mask"]).shape == (2, 3)
    with pytest.raises(ValueError, match="n_trainable"):
        finetune.TopLayersClassifier(encoder, 7, 3)
