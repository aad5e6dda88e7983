"""course_lib: the helper library of the runnable deep-learning course book.

The names every notebook uses are importable from the top level::

    from course_lib import device, set_seed, fit, evaluate
"""

from .device import device, set_seed
from .train import evaluate, fit

__all__ = ["device", "set_seed", "fit", "evaluate"]
__version__ = "0.1.0"
