"""Tasks as text to text (T5's framing, Raffel et al. 2020) and instruction tuning, in miniature
(chapter 15b).

Every example is one string ``prompt + answer + "."``: the prompt names the task with a prefix
(``"rev 3141 ="``), the answer is text (``"1413"``), and a language model is trained with the
cross-entropy on the answer tokens only,

    L = -(1 / |A|) sum_{t in A} log p(x_t | x_<t),   A = the answer positions (and the ".").

Everything is characters: a vocabulary of digits, letters of the task names and a few symbols.
"""

import torch
import torch.nn.functional as F

from .optim import warmup_cosine_schedule
from .validation import check_int

TASKS = ("cpy", "rev", "srt", "max")
CHARS = sorted(set("0123456789 =.") | set("".join(TASKS)))
STOI = {c: i for i, c in enumerate(CHARS)}
DIGITS = 4  # digits of the copy/reverse/sort inputs
PROMPT_LEN = 10  # "rev 3141 ="
SEQ_LEN = PROMPT_LEN + DIGITS + 1  # the longest answer (4 digits) and its "."


def encode(text):
    """Characters -> a 1-D int64 tensor of ids."""
    unknown = set(text) - set(STOI)
    if unknown:
        raise ValueError(f"characters {sorted(unknown)} are not in the vocabulary {CHARS}")
    return torch.tensor([STOI[c] for c in text])


def decode(ids):
    return "".join(CHARS[i] for i in ids.tolist())


def solve(task, digits):
    """The right answer, as text, for a task and its input digits (a string)."""
    if task == "cpy":
        return digits
    if task == "rev":
        return digits[::-1]
    if task == "srt":
        return "".join(sorted(digits))
    if task == "max":
        return max(digits)
    raise ValueError(f"task must be one of {TASKS}, got {task!r}")


def prompt(task, digits):
    """The task's name, a space, the digits, " =": ``"rev 3141 ="``."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    return f"{task} {digits} ="


def random_digits(n, g):
    """``n`` random strings of DIGITS digits from the torch generator ``g``."""
    d = torch.randint(10, (n, DIGITS), generator=g)
    return ["".join(map(str, row.tolist())) for row in d]


def examples(tasks, digits):
    """Token ids (N, SEQ_LEN) of ``prompt + answer + "."`` padded with "." and the loss mask
    (N, SEQ_LEN - 1): True where the target x_{t+1} is an answer token or the first "."."""
    rows, masks = [], []
    for task, d in zip(tasks, digits, strict=True):
        p, a = prompt(task, d), solve(task, d) + "."
        text = (p + a).ljust(SEQ_LEN, ".")
        rows.append(encode(text))
        m = torch.zeros(SEQ_LEN - 1, dtype=torch.bool)
        m[len(p) - 1 : len(p) - 1 + len(a)] = True  # logits at t predict x_{t+1}
        masks.append(m)
    return torch.stack(rows), torch.stack(masks)


def mixture(n, g, tasks=TASKS):
    """``n`` examples with tasks drawn uniformly from ``tasks``: (ids, mask, task names)."""
    pick = torch.randint(len(tasks), (n,), generator=g).tolist()
    names = [tasks[i] for i in pick]
    ids, mask = examples(names, random_digits(n, g))
    return ids, mask, names


def masked_lm_loss(logits, ids, mask):
    """Cross-entropy of predicting ids[:, 1:] from logits[:, :-1], averaged where ``mask``."""
    ce = F.cross_entropy(logits[:, :-1].flatten(0, 1), ids[:, 1:].flatten(), reduction="none")
    return (ce * mask.flatten()).sum() / mask.sum().clamp(min=1)


def train(model, make_batch, steps, *, lr=3e-3, warmup=0, clip=1.0, mask_prompt=True):
    """Adam on ``masked_lm_loss`` for ``steps`` batches ``make_batch()`` -> ``(ids, mask)``;
    with ``mask_prompt`` False, every position is a target (plain language modelling).

    The rate rises linearly over ``warmup`` steps and then decays to 0 on a cosine
    (``optim.warmup_cosine_schedule``), and the gradient norm is clipped to ``clip`` (None: no
    clipping). The decay matters here: at a constant rate the final weights are one noisy step
    among many, and exact match then moves with the seed and the processor. Returns the losses."""
    check_int("steps", steps, min_value=1)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda t: warmup_cosine_schedule(t, warmup, steps)
    )
    dev = next(model.parameters()).device
    losses = []
    model.train()
    for _ in range(steps):
        ids, mask = (t.to(dev) for t in make_batch())
        if not mask_prompt:
            mask = torch.ones_like(mask)
        loss = masked_lm_loss(model(ids), ids, mask)
        opt.zero_grad()
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def greedy_answers(model, prompts):
    """Greedy continuation of equal-length prompts (strings) for DIGITS + 1 characters, cut at
    the first "."."""
    if len({len(p) for p in prompts}) != 1:
        raise ValueError("the prompts must all have the same length")
    dev = next(model.parameters()).device
    model.eval()
    x = torch.stack([encode(p) for p in prompts]).to(dev)
    for _ in range(DIGITS + 1):
        nxt = model(x)[:, -1].argmax(-1, keepdim=True)
        x = torch.cat([x, nxt], 1)
    return [decode(row[len(prompts[0]) :]).split(".")[0] for row in x.cpu()]


def exact_match(model, task, digits):
    """Share of the inputs for which the greedy answer equals ``solve(task, d)`` exactly."""
    check_int("number of inputs", len(digits), min_value=1)
    got = greedy_answers(model, [prompt(task, d) for d in digits])
    return sum(a == solve(task, d) for a, d in zip(got, digits, strict=True)) / len(digits)


def prefix_blind_ceiling(digits, tasks=TASKS):
    """The best mean exact match over ``tasks`` of any answerer that ignores the prefix: for
    each input it gives one answer for all tasks, at best the one that most tasks share."""
    best = 0
    for d in digits:
        answers = [solve(t, d) for t in tasks]
        best += max(answers.count(a) for a in answers)
    return best / (len(digits) * len(tasks))


__all__ = [
    "TASKS",
    "CHARS",
    "encode",
    "decode",
    "solve",
    "prompt",
    "random_digits",
    "examples",
    "mixture",
    "masked_lm_loss",
    "train",
    "greedy_answers",
    "exact_match",
    "prefix_blind_ceiling",
]
