"""Offline datasets and generators. Nothing here downloads anything."""

from .digits import load_digits
from .split import Split, batches, train_val_test_split
from .text import load_corpus
from .toy import toy_2d

__all__ = ["Split", "batches", "load_corpus", "load_digits", "toy_2d", "train_val_test_split"]
from .ring import ring_centers, ring_of_gaussians  # noqa: E402, I001  (chapter 10)

__all__ += ["ring_centers", "ring_of_gaussians"]
from .glyphs import GLYPH_CLASSES, load_glyphs, make_glyphs  # noqa: E402, I001  (chapter 06)
from .mnist1d import load_mnist1d  # noqa: E402  (chapter 06)

__all__ += ["GLYPH_CLASSES", "load_glyphs", "load_mnist1d", "make_glyphs"]
