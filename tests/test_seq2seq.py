import pytest
import torch

from course_lib.data.sequences import (
    BOS,
    EOS,
    N_SPECIAL,
    PAD,
    bucket_batches,
    digit_task,
    lag_task,
    pad_sequences,
    tokens_to_str,
)
from course_lib.models.seq2seq import Seq2Seq, exact_match, seq2seq_loss, train_seq2seq


def test_pad_sequences():
    out = pad_sequences([[1, 2, 3], [4]], pad=9)
    assert out.tolist() == [[1, 2, 3], [4, 9, 9]]
    assert pad_sequences([[1]], length=3).tolist() == [[1, 0, 0]]
    with pytest.raises(ValueError, match="length"):
        pad_sequences([[1, 2, 3]], length=2)


@pytest.mark.parametrize("task", ["reverse", "copy", "sort"])
def test_digit_task_targets(task):
    p = digit_task(200, task=task, min_len=2, max_len=7, seed=3)
    assert p.src.shape == (200, 7) and p.tgt.shape == (200, 9)
    assert p.src_len.min() >= 2 and p.src_len.max() <= 7
    for i in range(200):
        n = int(p.src_len[i])
        x = p.src[i, :n].tolist()
        assert all(t >= N_SPECIAL for t in x) and (p.src[i, n:] == PAD).all()
        expect = {"reverse": x[::-1], "copy": x, "sort": sorted(x)}[task]
        assert p.tgt[i, : n + 2].tolist() == [BOS, *expect, EOS]
        assert (p.tgt[i, n + 2 :] == PAD).all() and p.tgt_len[i] == n + 2


def test_digit_task_bad_args():
    with pytest.raises(ValueError, match="task"):
        digit_task(5, task="rot13")
    with pytest.raises(ValueError, match="min_len"):
        digit_task(5, min_len=4, max_len=2)


def test_tokens_to_str():
    assert tokens_to_str([BOS, 5, 3, EOS, PAD]) == "<20>"


def test_bucket_batches_cover_once_and_group_lengths():
    lengths = torch.randint(1, 30, (500,), generator=torch.Generator().manual_seed(0))
    chunks = list(bucket_batches(lengths, 50, generator=torch.Generator().manual_seed(1)))
    allidx = torch.cat(chunks).sort().values
    assert torch.equal(allidx, torch.arange(500))
    # sorted buckets waste much less padding than random batches
    waste = sum((lengths[c].max() - lengths[c]).sum().item() for c in chunks)
    rand = sum((lengths[c].max() - lengths[c]).sum().item() for c in torch.randperm(500).split(50))
    assert waste < rand / 3


def test_lag_task():
    X, y = lag_task(100, 20, n_classes=3, n_noise=5)
    assert X.shape == (100, 21) and torch.equal(X[:, 0], y)
    assert X[:, 1:].min() >= 3 and X[:, 1:].max() < 8


def test_encoder_ignores_padding():
    torch.manual_seed(0)
    model = Seq2Seq(13, 8, 16)
    p = digit_task(6, min_len=1, max_len=9, seed=0)
    out, last, mask = model.encode(p.src, p.src_len)
    for i in range(6):
        n = int(p.src_len[i])
        ref, h = model.encoder(model.src_embed(p.src[i : i + 1, :n]))
        torch.testing.assert_close(last[i], h[0, 0])
        torch.testing.assert_close(out[i, :n], ref[0])
        assert (out[i, n:] == 0).all() and mask[i].sum() == n
        torch.testing.assert_close(model.context(last, out, mask)[0][i], h[0, 0])


def test_forward_shapes_loss_ignores_pad():
    model = Seq2Seq(13, 8, 16)
    p = digit_task(4, max_len=5)
    logits = model(p.src, p.src_len, p.tgt[:, :-1])
    assert logits.shape == (4, 6, 13)
    tgt = p.tgt[:, 1:]
    loss = seq2seq_loss(logits, tgt)
    keep = tgt != PAD
    manual = torch.nn.functional.cross_entropy(logits[keep], tgt[keep])
    torch.testing.assert_close(loss, manual)


def test_exact_match():
    tgt = torch.tensor([[4, 5, EOS, PAD], [4, EOS, PAD, PAD]])
    tok = torch.tensor([[4, 5, EOS, PAD], [4, 6, PAD, PAD]])
    assert exact_match(tok, tgt).tolist() == [True, False]
    with pytest.raises(ValueError, match="decode"):
        exact_match(tok[:, :1], tgt)


def test_seq2seq_learns_short_reversal():
    torch.manual_seed(0)
    train = digit_task(2000, task="reverse", min_len=1, max_len=4, n_symbols=5, seed=1)
    test = digit_task(300, task="reverse", min_len=1, max_len=4, n_symbols=5, seed=2)
    model = Seq2Seq(5 + N_SPECIAL, 16, 64)
    hist = train_seq2seq(model, train, epochs=8, progress=False)
    assert hist["train_loss"][-1] < hist["train_loss"][0]
    tokens = model.greedy(test.src, test.src_len, max_len=6)
    acc = exact_match(tokens, test.tgt[:, 1:]).float().mean().item()
    assert acc > 0.9, acc
    # after EOS only PAD
    for row in tokens.tolist():
        if EOS in row:
            assert all(t == PAD for t in row[row.index(EOS) + 1 :])
    _, w = model.greedy(test.src, test.src_len, max_len=6, return_weights=True)
    assert w is None


class _MeanAttention(Seq2Seq):
    """A subclass that only overrides ``context``: uniform weights over the real source tokens."""

    def context(self, query, enc_out, src_mask):
        w = src_mask.float() / src_mask.sum(1, keepdim=True)
        return (w.unsqueeze(-1) * enc_out).sum(1), w


def test_context_override_is_used_by_forward_and_greedy():
    torch.manual_seed(0)
    model = _MeanAttention(13, 8, 16)
    p = digit_task(5, min_len=2, max_len=6)
    assert model(p.src, p.src_len, p.tgt[:, :-1]).shape == (5, 7, 13)
    tokens, w = model.greedy(p.src, p.src_len, max_len=8, return_weights=True)
    assert tokens.shape == (5, 8) and w.shape == (5, 8, 6)
    torch.testing.assert_close(w.sum(-1), torch.ones(5, 8))
    assert (w[torch.arange(5), :, p.src_len - 1] > 0).all()
    assert all((w[i, :, int(n) :] == 0).all() for i, n in enumerate(p.src_len))
