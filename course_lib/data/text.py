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


def module_docstrings(module_name: str):
    """Yield the docstrings of a module, its public classes and functions, and their methods."""
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
        for doc in module_docstrings(module_name):
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


# -- words -------------------------------------------------------------------------------------
PAD_TOKEN, UNK_TOKEN, BOS_TOKEN, EOS_TOKEN = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIAL_TOKENS = (PAD_TOKEN, UNK_TOKEN, BOS_TOKEN, EOS_TOKEN)
_WORD = re.compile(r"[a-z][a-z0-9_]*(?:'[a-z]+)?|[0-9]+|[^\sa-z0-9_]")


def word_tokenize(text: str, *, paragraph_eos: bool = True) -> list[str]:
    """Lower-case ``text`` and cut it into words, numbers and single punctuation marks.

    With ``paragraph_eos`` each paragraph (blank-line separated) ends with ``<eos>``, so a
    language model sees where a text stops.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    tokens = []
    for para in text.split("\n\n"):
        words = _WORD.findall(para.lower())
        if words:
            tokens.extend(words)
            if paragraph_eos:
                tokens.append(EOS_TOKEN)
    return tokens


class WordVocab:
    """Token <-> id mapping with the specials ``<pad>`` = 0, ``<unk>`` = 1, ``<bos>`` = 2,
    ``<eos>`` = 3, then the kept words by decreasing frequency (ties alphabetical).

    Words seen fewer than ``min_count`` times (or beyond ``max_size``) map to ``<unk>``.
    """

    def __init__(self, tokens, *, min_count: int = 1, max_size: int | None = None):
        if min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {min_count}")
        counts = {}
        for tok in tokens:
            counts[tok] = counts.get(tok, 0) + 1
        words = sorted(
            (w for w, c in counts.items() if c >= min_count and w not in SPECIAL_TOKENS),
            key=lambda w: (-counts[w], w),
        )
        if max_size is not None:
            words = words[: max(0, max_size - len(SPECIAL_TOKENS))]
        self.itos = list(SPECIAL_TOKENS) + words
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.counts = counts

    pad, unk, bos, eos = 0, 1, 2, 3

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, word) -> bool:
        return word in self.stoi

    def encode(self, tokens) -> torch.Tensor:
        """ids (int64 tensor) of ``tokens``; unknown words become ``<unk>``."""
        if isinstance(tokens, str):
            raise TypeError("encode expects a list of tokens; call word_tokenize(text) first")
        return torch.tensor([self.stoi.get(t, self.unk) for t in tokens], dtype=torch.long)

    def decode(self, ids) -> list[str]:
        """Tokens of ``ids``."""
        return [self.itos[int(i)] for i in ids]
