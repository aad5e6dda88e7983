"""Bad input fails at the public edge with a message that names the argument, what was
expected and what it got (issue 19); valid edge values are accepted."""

import numpy as np
import pytest
import torch
from torch import nn

from course_lib import activations, bpe, conv, metrics, optim, regularization
from course_lib.models import gnn, linear, rnn
from course_lib.models import transformer as T
from course_lib.models.attention import MultiHeadAttention
from course_lib.models.gpt import GPT
from course_lib.ngram import NGramLM
from course_lib.validation import (
    check_ids,
    check_int,
    check_positive,
    check_probability,
    check_same_dtype,
    check_tensor,
)


# -- the helper itself ------------------------------------------------------------------------
def test_check_tensor_names_shape_rank_and_dtype():
    x = torch.zeros(5, 32)
    assert check_tensor("x", x, shape=(None, 32), dtype="floating") is x
    with pytest.raises(ValueError, match=r"x must have shape \(\?, \?, 64\), got \(5, 32\)"):
        check_tensor("x", x, shape=(None, None, 64))
    with pytest.raises(ValueError, match=r"x must be 3-D or 4-D, got shape \(5, 32\)"):
        check_tensor("x", x, ndim=(3, 4))
    with pytest.raises(TypeError, match="x must have an integer dtype, got torch.float32"):
        check_tensor("x", x, dtype="integer")
    with pytest.raises(TypeError, match="x must have dtype torch.float64"):
        check_tensor("x", x, dtype=torch.float64)
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        check_tensor("x", [1.0])


def test_number_checks():
    assert check_probability("p", 1.0) == 1.0 and check_positive("lr", 0, allow_zero=True) == 0
    assert check_int("n", np.int64(3)) == 3 and check_int("n", torch.tensor(2)) == 2
    with pytest.raises(ValueError, match=r"p must lie in \(0, 1\], got 0"):
        check_probability("p", 0, allow_zero=False)
    with pytest.raises(TypeError, match="p must be a real number"):
        check_probability("p", float("nan"))
    with pytest.raises(ValueError, match="lr must be > 0, got 0"):
        check_positive("lr", 0)
    with pytest.raises(TypeError, match="n must be an int"):
        check_int("n", 2.5)
    with pytest.raises(ValueError, match="n must be >= 0, got -1"):
        check_int("n", -1, min_value=0)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 4\), got values in \[0, 4\]"):
        check_ids("ids", torch.tensor([0, 4]), 4)
    with pytest.raises(TypeError, match="x, w must share one dtype"):
        check_same_dtype(x=torch.zeros(1), w=torch.zeros(1, dtype=torch.float64))


# -- obscure messages replaced -----------------------------------------------------------------
def test_multi_head_attention_names_its_input():
    mha = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match=r"query must have shape \(\?, \?, 8\), got \(5, 8\)"):
        mha(torch.randn(5, 8))
    with pytest.raises(ValueError, match=r"query must have shape \(\?, \?, 8\), got \(2, 5, 6\)"):
        mha(torch.randn(2, 5, 6))


def test_gcn_and_cells_name_the_feature_width():
    with pytest.raises(ValueError, match=r"x must have shape \(\?, 4\), got \(3, 5\)"):
        gnn.GCNLayer(4, 2)(torch.randn(3, 5), torch.zeros(2, 0, dtype=torch.long))
    cell = nn.GRUCell(3, 4)
    with pytest.raises(ValueError, match="x must have 3 features"):
        rnn.gru_cell(torch.randn(2, 5), torch.randn(2, 4), *rnn.cell_params(cell))
    with pytest.raises(ValueError, match="h must have 4 features"):
        rnn.gru_cell(torch.randn(2, 3), torch.randn(2, 6), *rnn.cell_params(cell))


def test_kv_cache_rejects_another_batch_size():
    cache = T.KVCache(1)
    cache.append(0, torch.randn(2, 1, 3, 4), torch.randn(2, 1, 3, 4))
    with pytest.raises(ValueError, match="same batch size"):
        cache.append(0, torch.randn(3, 1, 1, 4), torch.randn(3, 1, 1, 4))


def test_sliding_window_mask_rejects_a_global_token_outside_the_sequence():
    with pytest.raises(ValueError, match=r"global_tokens must be positions in \[0, 5\)"):
        T.sliding_window_mask(5, 2, global_tokens=[5])


@pytest.mark.parametrize(
    "make",
    [
        lambda: GPT(10, d_model=8, num_heads=2, num_layers=1, context=8),
        lambda: rnn.CharLM(10, emb_dim=4, hidden=8),
        lambda: T.CharTransformer(10, d_model=8, num_heads=2, num_layers=1, context=8),
        lambda: T.ModernLM(10, d_model=8, num_heads=2, num_layers=1),
    ],
)
def test_language_models_check_token_ids(make):
    model = make()
    with pytest.raises(ValueError, match=r"must lie in \[0, 10\), got values in \[0, 10\]"):
        model(torch.tensor([[0, 10]]))
    with pytest.raises(TypeError, match="integer dtype"):
        model(torch.zeros(1, 2))


def test_ridge_and_cross_entropy_name_their_arguments():
    with pytest.raises(ValueError, match="X must be 2-D"):
        regularization.ridge(torch.randn(5, dtype=torch.float64), torch.randn(5), 0.1)
    with pytest.raises(ValueError, match="y must have 5 rows like X"):
        regularization.ridge(torch.randn(5, 2), torch.randn(4), 0.1)
    with pytest.raises(ValueError, match=r"y must lie in \[0, 3\)"):
        linear.cross_entropy(torch.randn(2, 3), torch.tensor([0, 3]))


def test_bpe_decode_unknown_id_and_negative_merges():
    tok = bpe.BPETokenizer.train("low lower lowest", 5)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, "):
        tok.decode([len(tok)])
    vocab = bpe.word_dictionary(["low"])
    for learn in (bpe.learn_bpe_naive, bpe.learn_bpe):
        with pytest.raises(ValueError, match="num_merges must be >= 0"):
            learn(vocab, -1)


def test_conv_rejects_mixed_dtypes():
    x, w = torch.randn(1, 1, 5, 5), torch.randn(1, 1, 3, 3, dtype=torch.float64)
    for fn in (conv.conv2d_loops, conv.conv2d_im2col):
        with pytest.raises(TypeError, match="x, weight must share one dtype"):
            fn(x, w)


# -- silent acceptance -------------------------------------------------------------------------
def test_ngram_prob_rejects_ids_outside_the_vocabulary():
    lm = NGramLM(2, 4).fit([0, 1, 2, 3, 1])
    with pytest.raises(ValueError, match=r"token must lie in \[0, 4\), got 4"):
        lm.prob(4, [1])
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 4\)"):
        lm.prob(1, [7])


def test_softmax_backward_rejects_a_wrongly_shaped_upstream():
    with pytest.raises(ValueError, match="upstream must have the shape of z"):
        activations.softmax_backward(np.zeros((2, 3)), np.zeros(3))


def test_optimizer_hyperparameters():
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="eps must be >= 0, got -1"):
        optim.AdaGrad([w], eps=-1)
    for cls in (optim.RMSprop, optim.Adam, optim.AdamW):
        with pytest.raises(ValueError, match="eps"):
            cls([w], eps=-1e-8)
    optim.SGD([w], lr=0.0).step()  # valid, as in torch


def test_weighted_f1_of_nothing_raises():
    empty = torch.zeros(0, dtype=torch.long)
    with pytest.raises(ValueError, match="empty"):
        metrics.precision_recall_f1(empty, empty, 2, average="weighted")


def test_seq2seq_skipgram_and_perceptron_check_their_inputs():
    from course_lib.embeddings import SkipGramNS
    from course_lib.models import perceptron
    from course_lib.models.seq2seq import Seq2Seq

    model = Seq2Seq(8, 4, 6)
    src = torch.tensor([[3, 4, 8]])
    with pytest.raises(ValueError, match=r"src must lie in \[0, 8\)"):
        model(src, torch.tensor([3]), torch.tensor([[1, 2]]))
    sg = SkipGramNS(5, 3)
    with pytest.raises(ValueError, match=r"negatives must lie in \[0, 5\)"):
        sg(torch.tensor([0, 1]), torch.tensor([1, 2]), torch.tensor([[5], [0]]))
    with pytest.raises(ValueError, match=r"X must have shape \(\?, 2\), got \(4, 3\)"):
        perceptron.predict(torch.zeros(2), 0.0, torch.zeros(4, 3))
