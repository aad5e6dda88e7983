"""Choosing the compute device and making runs reproducible."""

import os
import random

import numpy as np
import torch


def device() -> torch.device:
    """Return the best available device: CUDA, then Apple's MPS, then the CPU.

    Set the environment variable ``COURSE_DEVICE`` (``cpu``, ``cuda``, ``mps``) to force one.
    """
    forced = os.environ.get("COURSE_DEVICE")
    if forced:
        return torch.device(forced)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def set_seed(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch so that a run repeats on the same machine.

    Returns a ``torch.Generator`` seeded with ``seed``, for code that wants its own stream.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    # cuDNN picks the fastest kernel per run unless told not to, and the fastest is not always
    # deterministic.
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)
