"""An English text corpus that every Python installation already has.

The corpus is the documentation (docstrings) of a fixed list of standard-library modules:
plain technical English, nothing to download, the same for everyone on the same Python
version. ``load_corpus`` cleans it into paragraphs; ``char_vocab`` and ``encode``/``decode``
turn it into integer sequences.
"""

import importlib
import inspect
import re

import torch

CORPUS_MODULES = (
    "argparse",
    "asyncio",
    "base64",
    "bisect",
    "calendar",
    "collections",
    "configparser",
    "contextlib",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "email",
    "enum",
    "fractions",
    "functools",
    "gzip",
    "hashlib",
    "heapq",
    "html",
    "http.client",
    "imaplib",
    "inspect",
    "ipaddress",
    "itertools",
    "json",
    "logging",
    "mailbox",
    "math",
    "numbers",
    "operator",
    "optparse",
    "os",
    "pathlib",
    "pickle",
    "pprint",
    "queue",
    "random",
    "re",
    "sched",
    "shlex",
    "shutil",
    "smtplib",
    "socket",
    "statistics",
    "string",
    "subprocess",
    "tarfile",
    "tempfile",
    "textwrap",
    "threading",
    "timeit",
    "tokenize",
    "turtle",
    "typing",
    "unittest",
    "urllib.parse",
    "uuid",
    "warnings",
    "weakref",
    "zipfile",
)


def _docstrings(module_name: str):
    module = importlib.import_module(module_name)
    yield inspect.getdoc(module) or ""
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            yield inspect.getdoc(obj) or ""
            if inspect.isclass(obj):
                for _, member in sorted(vars(obj).items()):
                    if inspect.isfunction(member) and not member.__name__.startswith("_"):
                        yield inspect.getdoc(member) or ""


def _is_prose(paragraph: str) -> bool:
    """Keep paragraphs that read as sentences, not code samples or tables."""
    letters = sum(c.isalpha() or c == " " for c in paragraph)
    return (
        len(paragraph) >= 80
        and letters / len(paragraph) > 0.85
        and ">>>" not in paragraph
        and paragraph.rstrip().endswith(".")
    )


def load_corpus(max_chars: int | None = None) -> str:
    """Return the corpus as one string of prose paragraphs separated by blank lines.

    Only ASCII characters are kept, whitespace inside a paragraph becomes single spaces, and
    duplicate paragraphs are dropped. ``max_chars`` truncates at a paragraph boundary.
    """
    seen, paragraphs, total = set(), [], 0
    for module_name in CORPUS_MODULES:
        for doc in _docstrings(module_name):
            for para in re.split(r"\n\s*\n", doc):
                para = " ".join(para.encode("ascii", "ignore").decode().split())
                if para in seen or not _is_prose(para):
                    continue
                if max_chars is not None and total + len(para) + 2 > max_chars:
                    return "\n\n".join(paragraphs)
                seen.add(para)
                paragraphs.append(para)
                total += len(para) + 2
    return "\n\n".join(paragraphs)


def char_vocab(text: str) -> list[str]:
    """Sorted list of the distinct characters of ``text``; a character's index is its id."""
    return sorted(set(text))


def encode(text: str, vocab: list[str]) -> torch.Tensor:
    """Map each character to its index in ``vocab`` (int64 tensor of shape (len(text),))."""
    index = {ch: i for i, ch in enumerate(vocab)}
    missing = sorted(set(text) - index.keys())
    if missing:
        raise ValueError(f"characters not in the vocabulary: {missing[:10]}")
    return torch.tensor([index[ch] for ch in text], dtype=torch.long)


def decode(ids, vocab: list[str]) -> str:
    """Inverse of ``encode``."""
    return "".join(vocab[int(i)] for i in ids)


def split_text(text: str, *, val: float = 0.1) -> tuple[str, str]:
    """Deterministic split: the last ``val`` fraction of paragraphs is held out."""
    if not 0 < val < 1:
        raise ValueError(f"val must lie in (0, 1), got {val}")
    paragraphs = text.split("\n\n")
    cut = max(1, round(len(paragraphs) * (1 - val)))
    return "\n\n".join(paragraphs[:cut]), "\n\n".join(paragraphs[cut:])
