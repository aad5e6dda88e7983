"""Choosing the compute device and making runs reproducible.

Every seed in the course goes through :func:`seeded`, which adds the environment variable
``COURSE_SEED`` (default 0). ``COURSE_SEED=3 jupyter nbconvert --execute ...`` therefore reruns a
whole notebook under another random draw without editing it: the robustness sweep
(``make robustness``) does exactly that, to check that every asserted claim holds for more than
one lucky draw.
"""

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


def seed_offset() -> int:
    """The value of the environment variable ``COURSE_SEED`` (default 0), added to every seed."""
    raw = os.environ.get("COURSE_SEED", "0").strip() or "0"
    if not raw.isdigit():
        raise ValueError(f"COURSE_SEED must be a non-negative integer, got {raw!r}")
    return int(raw)


def seeded(seed: int = 0) -> int:
    """Return ``seed + COURSE_SEED``: the seed a call with ``seed`` really uses."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return int(seed) + seed_offset()


def generator(seed: int = 0, device=None) -> torch.Generator:
    """A ``torch.Generator`` (on ``device``, default the CPU) seeded with ``seeded(seed)``."""
    return torch.Generator(device=device or "cpu").manual_seed(seeded(seed))


def rng(seed: int = 0) -> np.random.Generator:
    """A NumPy random generator seeded with ``seeded(seed)``."""
    return np.random.default_rng(seeded(seed))


def set_seed(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch with ``seeded(seed)``, so that a run repeats on the same
    machine.

    Returns a ``torch.Generator`` seeded the same way, for code that wants its own stream.
    """
    seed = seeded(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    # cuDNN picks the fastest kernel per run unless told not to, and the fastest is not always
    # deterministic.
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)
