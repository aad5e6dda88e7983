"""Figures, one module per topic; the common ones are importable from here."""

from .core import image_grid, plot_decision_boundary, plot_history

__all__ = ["image_grid", "plot_decision_boundary", "plot_history"]
from .metrics import plot_confusion_matrix  # noqa: E402

__all__ += ["plot_confusion_matrix"]
from .attention import attention_grid, attention_heatmap, mask_pattern  # noqa: E402  chapter 13

__all__ += ["attention_grid", "attention_heatmap", "mask_pattern"]
