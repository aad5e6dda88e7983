"""course_lib: the helper library of the runnable deep-learning course book.

The names every notebook uses are importable from the top level::

    from course_lib import device, set_seed, fit, evaluate

Random state that a notebook makes itself comes from ``generator(seed)`` (torch) or
``rng(seed)`` (NumPy), so that ``COURSE_SEED`` moves it too; ``claim`` asserts a result and
records it for the robustness sweep.
"""

from .claims import claim
from .device import device, generator, rng, seeded, set_seed
from .train import evaluate, fit

__all__ = ["device", "set_seed", "generator", "rng", "seeded", "claim", "fit", "evaluate"]
__version__ = "0.1.0"
