"""Synthetic signals: linearly separable point clouds with a chosen margin, and a
maternal/fetal electrocardiogram (ECG) mixture for adaptive noise cancelling."""

import numpy as np
import torch

from ..device import seeded


def separable_with_margin(
    n: int = 200, *, margin: float = 0.1, dim: int = 2, radius: float = 1.0, seed: int = 0
):
    """Points in a ball of ``radius`` labelled by a random hyperplane through the origin,
    keeping only points at distance >= ``margin`` from it.

    Returns (X, y, w_star): X float64 (n, dim), y in {-1, +1}, and the unit normal w_star.
    """
    if not 0 < margin < radius:
        raise ValueError(f"margin must lie in (0, radius={radius}), got {margin}")
    rng = np.random.default_rng(seeded(seed))
    w_star = rng.standard_normal(dim)
    w_star /= np.linalg.norm(w_star)
    points = []
    while len(points) < n:
        x = rng.uniform(-radius, radius, size=(4 * n, dim))
        x = x[(np.linalg.norm(x, axis=1) <= radius) & (np.abs(x @ w_star) >= margin)]
        points.extend(x)
    X = np.array(points[:n])
    y = np.where(X @ w_star >= 0, 1, -1)
    return torch.tensor(X), torch.tensor(y), torch.tensor(w_star)


def ecg_beats(
    duration: float, rate_bpm: float, *, fs: int = 500, amplitude: float = 1.0, phase: float = 0.0
) -> np.ndarray:
    """A stylised ECG: at each beat a P wave, a sharp QRS complex and a T wave, each a Gaussian
    bump (amplitude, centre offset in s, width in s) added to a flat baseline."""
    t = np.arange(int(duration * fs)) / fs
    period = 60.0 / rate_bpm
    waves = [
        (0.12, -0.20, 0.025),
        (-0.15, -0.03, 0.010),
        (1.0, 0.0, 0.012),
        (-0.25, 0.03, 0.010),
        (0.30, 0.25, 0.040),
    ]
    signal = np.zeros_like(t)
    for beat in np.arange(phase, duration + period, period):
        for height, offset, width in waves:
            signal += height * np.exp(-0.5 * ((t - beat - offset) / width) ** 2)
    return amplitude * signal


def maternal_fetal_mixture(
    duration: float = 30.0, *, fs: int = 250, noise: float = 0.002, seed: int = 0
):
    """The classic adaptive noise-cancelling setting (Widrow et al. 1975).

    The abdominal lead (``primary``) records the weak fetal heart (about 140 bpm) plus the
    mother's strong heartbeat (about 75 bpm) after an unknown propagation filter; a chest lead
    (``reference``) records the mother's heartbeat alone. Both carry white sensor noise of
    standard deviation ``noise``.
    Returns a dict with ``t``, ``primary``, ``reference``, ``fetal`` and ``maternal_in_primary``.
    """
    rng = np.random.default_rng(seeded(seed))
    maternal = ecg_beats(duration, 75, fs=fs, amplitude=1.0, phase=0.13)
    fetal = ecg_beats(duration, 140, fs=fs, amplitude=0.15, phase=0.05)
    channel = np.array([0.0, 0.55, 0.3, -0.2, 0.1])  # delay and smearing from chest to abdomen
    maternal_in_primary = np.convolve(maternal, channel)[: len(maternal)]
    primary = fetal + maternal_in_primary + noise * rng.standard_normal(len(maternal))
    reference = maternal + noise * rng.standard_normal(len(maternal))
    t = np.arange(len(maternal)) / fs
    return {
        "t": t,
        "primary": primary,
        "reference": reference,
        "fetal": fetal,
        "maternal_in_primary": maternal_in_primary,
    }


def snr_db(signal: np.ndarray, noise: np.ndarray) -> float:
    """Signal-to-noise ratio 10 log10(P_signal / P_noise), P = mean square."""
    return float(10 * np.log10(np.mean(signal**2) / np.mean(noise**2)))
