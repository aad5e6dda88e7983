import math

import numpy as np
import pytest

from course_lib.ngram import NGramLM

TEXT = [0, 1, 2, 0, 1, 3, 0, 1, 2, 2, 1, 0]


@pytest.mark.parametrize("method", ["witten_bell", "add_k"])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_distributions_sum_to_one(method, n):
    lm = NGramLM(n, 5, method=method, k=0.5).fit(TEXT)
    for history in [(), (0,), (0, 1), (4, 4), (1, 2)]:
        p = lm.distribution(history)
        assert math.isclose(p.sum(), 1.0, rel_tol=1e-12)
        assert (p > 0).all()
        for w in range(5):
            assert math.isclose(lm.prob(w, history), p[w], rel_tol=1e-12)


def test_add_one_bigram_by_hand():
    lm = NGramLM(2, 5, method="add_k", k=1).fit(TEXT)
    # c(0, 1) = 3, c(0) as a history = 3 (the final 0 has no follower)
    assert math.isclose(lm.prob(1, (0,)), (3 + 1) / (3 + 5))
    assert math.isclose(lm.prob(4, (0,)), 1 / 8)


def test_witten_bell_by_hand():
    lm = NGramLM(2, 5).fit(TEXT)
    # unigram: counts 0:4 1:4 2:3 3:1 4:0, N = 12, T = 4 distinct
    p1 = {w: (c + 4 / 5) / (12 + 4) for w, c in enumerate([4, 4, 3, 1, 0])}
    assert math.isclose(lm.prob(3), p1[3])
    # after 1: followers 2, 3, 2, 0 -> c = 4, T = 3
    assert math.isclose(lm.prob(2, (1,)), (2 + 3 * p1[2]) / (4 + 3))
    # unseen history backs off to the unigram
    assert math.isclose(lm.prob(2, (4,)), p1[2])


def test_uniform_unigram_perplexity_is_vocab_size():
    lm = NGramLM(1, 10, method="add_k", k=1).fit([])
    assert math.isclose(lm.perplexity([3, 1, 4, 1, 5, 9, 2, 6]), 10.0)


def test_perplexity_is_exp_cross_entropy():
    lm = NGramLM(3, 5).fit(TEXT)
    test = [0, 1, 2, 2, 0, 4]
    ll = sum(math.log(lm.prob(w, test[max(0, t - 2) : t])) for t, w in enumerate(test))
    assert math.isclose(lm.perplexity(test), math.exp(-ll / len(test)))


def test_generate_is_reproducible_and_in_range():
    lm = NGramLM(2, 5).fit(TEXT)
    a = lm.generate(20, prefix=[0], seed=1)
    assert a == lm.generate(20, prefix=[0], seed=1) and len(a) == 20
    assert all(0 <= w < 5 for w in a)
    greedyish = lm.generate(30, prefix=[0], temperature=0.05, seed=0)
    assert np.mean([w in (0, 1, 2) for w in greedyish]) > 0.9


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must"):
        NGramLM(0, 5)
    with pytest.raises(ValueError, match="method"):
        NGramLM(2, 5, method="kneser")
    with pytest.raises(ValueError, match="ids must lie"):
        NGramLM(2, 3).fit([0, 5])
    with pytest.raises(RuntimeError, match="fit"):
        NGramLM(2, 3).prob(0)
