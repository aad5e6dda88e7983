"""Specs of 15_llms."""

from . import Call, Make, answer, question
from ._inputs import integer, randint, randn

WORDS = "the cat sat on the mat the rat ate the hat of the cat that sat there then".split()


def _vocab(g):
    vocab = {}
    for _ in range(12):
        word = tuple(WORDS[integer(g, 0, len(WORDS))]) + ("</w>",)
        vocab[word] = vocab.get(word, 0) + integer(g, 1, 6)
    return vocab


@question("llm-bpe-merge-step-tests")
def _bpe(g):
    return [Call("bpe_merge_step", (_vocab(g),)) for _ in range(3)]


@question("llm-top-p-tests")
def _top_p(g):
    return [Call("top_p", (randn(g, 16, 30, scale=3), p)) for p in (0.1, 0.5, 0.9, 0.99)]


def _mlm_judge(calls, got, expected):
    for outcome in got:
        if "error" in outcome:
            names, message = outcome["error"]
            return f"mlm_mask raised {names[0]}: {message}"
    ids = calls[0].args[0].numpy()
    (inputs, labels), after = got[0]["value"], got[0]["args_after"][0]
    if not (hasattr(inputs, "shape") and inputs.shape == labels.shape == ids.shape):
        return "mlm_mask should return two tensors of the shape of ids"
    if not (after == ids).all():
        return "mlm_mask modified ids"
    selected = labels != -100
    if abs(selected.mean() - 0.15) > 0.006 or not (labels[selected] == ids[selected]).all():
        return "about 15 % of the positions should be selected, labelled with the original id"
    masked = ((inputs[selected] == 3) & (ids[selected] != 3)).mean()
    same = (inputs[selected] == ids[selected]).mean()
    if abs(masked - 0.8) > 0.02 or abs(same - 0.1) > 0.02:
        return "of the selected positions, 80 % should be masked and 10 % kept"
    if not ((inputs == ids) | selected).all():
        return "positions that are not selected must keep their id"
    a, b = got[1]["value"], got[2]["value"]
    if not (isinstance(a, list) and isinstance(b, list) and (a[0] == b[0]).all()):
        return "use the generator for every random draw (same seed, same result)"
    return None


@question("llm-mlm-mask-tests", judge=_mlm_judge)
def _mlm(g):
    ids = randint(g, 0, 500, 100_000)
    seed = integer(g, 0, 1000)
    few = ids[:1000]
    return [
        Call("mlm_mask", (ids, 3, 500, Make("generator", {"seed": seed})), report_args=True),
        Call("mlm_mask", (few, 3, 500, Make("generator", {"seed": seed + 1}))),
        Call("mlm_mask", (few, 3, 500, Make("generator", {"seed": seed + 1}))),
    ]


# The analysis question of 15_llms (its derivation is in the solution notebook).
answer("llm-bpe-symbols-answer-tests", "answer_q4", 97)
