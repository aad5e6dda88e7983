"""Offline datasets and generators. Nothing here downloads anything."""

from .digits import load_digits
from .split import Split, batches, train_val_test_split
from .text import load_corpus
from .toy import toy_2d

__all__ = ["Split", "batches", "load_corpus", "load_digits", "toy_2d", "train_val_test_split"]
from .ring import ring_centers, ring_of_gaussians  # noqa: E402, I001  (chapter 10)

__all__ += ["ring_centers", "ring_of_gaussians"]
