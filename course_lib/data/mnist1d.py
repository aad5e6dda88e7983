"""MNIST-1D (Greydanus 2020): ten 1-D digit templates, warped, generated locally.

The ``mnist1d`` package can download a pickled copy; here the data are always *generated* with
its ``make_dataset`` (pure NumPy/SciPy), so nothing touches the network.
"""

import random

import numpy as np
import torch

from ..device import seeded
from .split import Split


def load_mnist1d(num_samples: int = 5000, *, seed: int = 42, train_split: float = 0.8):
    """Return (train, test) Splits of MNIST-1D: X float32 (N, 40), y int64 in 0..9.

    Uses the package's default generator settings (template length 12, padding, scale,
    translation up to 48, correlated and i.i.d. noise, shear; final length 40) with
    ``num_samples`` signals, of which ``train_split`` are for training. ``make_dataset`` seeds
    NumPy's and Python's global generators; their previous states are restored afterwards.
    """
    if not isinstance(num_samples, int) or num_samples < 20:
        raise ValueError(f"num_samples must be an int >= 20, got {num_samples!r}")
    if not 0 < train_split < 1:
        raise ValueError(f"train_split must be in (0, 1), got {train_split}")
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.seed, args.train_split = num_samples, seeded(seed), train_split
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)

    def split(x, y):
        return Split(torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long))

    return split(data["x"], data["y"]), split(data["x_test"], data["y_test"])
