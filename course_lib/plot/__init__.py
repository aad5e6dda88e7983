"""Figures, one module per topic; the common ones are importable from here."""

from .core import image_grid, plot_decision_boundary, plot_history

__all__ = ["image_grid", "plot_decision_boundary", "plot_history"]
