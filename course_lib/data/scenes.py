"""Synthetic scenes for detection and segmentation: a few shapes on a noisy background.

Each image holds between one and ``max_objects`` shapes of five classes (square, disc,
triangle, ring, plus), of random size, position and brightness. Shapes may overlap: a later
shape is painted over an earlier one. Along with the images come the ground truth of every
dense-vision task: a box and a class per visible object, a semantic mask (which class each
pixel shows) and an instance mask (which object). Rings and plus signs are thin (strokes of
one to two pixels), the hard case for segmentation networks that downsample.
All randomness comes from one seed.
"""

from functools import lru_cache
from typing import NamedTuple

import numpy as np
import torch

from ..device import seeded

#: the object classes; in a semantic mask class k is stored as k + 1 (0 is the background)
SCENE_CLASSES = ("square", "disc", "triangle", "ring", "plus")


class Scenes(NamedTuple):
    """``images`` (N, 1, H, W) float32 in [0, 1]; ``boxes[i]`` (k_i, 4) float32 as
    (x0, y0, x1, y1) in pixels, x1 and y1 exclusive; ``labels[i]`` (k_i,) int64 in 0..4;
    ``semantic`` (N, H, W) int64, 0 for background and class + 1 for an object;
    ``instances`` (N, H, W) int64, 0 for background and j + 1 for the j-th box of the image."""

    images: torch.Tensor
    boxes: list
    labels: list
    semantic: torch.Tensor
    instances: torch.Tensor


def shape_mask(kind: int, cx: float, cy: float, r: float, size: int) -> np.ndarray:
    """Boolean (size, size) mask of shape ``SCENE_CLASSES[kind]`` centred at (cx, cy), half-width r.

    A pixel (row v, column u) is inside when its centre (u + 1/2, v + 1/2) satisfies the shape's
    inequality, e.g. the disc's (u - cx)^2 + (v - cy)^2 <= r^2.
    """
    if not 0 <= kind < len(SCENE_CLASSES):
        raise ValueError(f"kind must be in 0..{len(SCENE_CLASSES) - 1}, got {kind}")
    v, u = _pixel_centres(size)
    dx, dy = u - cx, v - cy
    name = SCENE_CLASSES[kind]
    if name == "square":
        return (np.abs(dx) <= r) & (np.abs(dy) <= r)
    if name == "disc":
        return dx**2 + dy**2 <= r**2
    if name == "triangle":  # apex at the top, base 2r wide at the bottom
        return (np.abs(dy) <= r) & (np.abs(dx) <= (dy + r) / 2)
    if name == "ring":
        d = np.sqrt(dx**2 + dy**2)
        return (d <= r) & (d >= r - 1.5)
    if name == "plus":
        bar = 1.0  # half the stroke width: strokes 2 pixels wide
        return ((np.abs(dx) <= bar) & (np.abs(dy) <= r)) | ((np.abs(dy) <= bar) & (np.abs(dx) <= r))
    raise AssertionError(name)  # unreachable: every class is handled above


@lru_cache(maxsize=8)
def _pixel_centres(size: int):
    return np.mgrid[0:size, 0:size] + 0.5


def make_scenes(
    n: int,
    *,
    size: int = 32,
    max_objects: int = 3,
    min_size: int = 7,
    max_size: int = 14,
    noise: float = 0.1,
    max_overlap: float = 0.3,
    seed: int = 0,
) -> Scenes:
    """Draw ``n`` scenes of ``size`` x ``size`` pixels.

    Each scene gets 1..``max_objects`` shapes with a side drawn uniformly from
    [``min_size``, ``max_size``] pixels, placed fully inside the image; a placement whose box
    has an intersection-over-union above ``max_overlap`` with an earlier box of the scene is
    redrawn. Pixel values are x = clip(b + sum of shapes + noise * eps, 0, 1) with a dim random
    background level b, each shape painted with its own brightness in [0.55, 1], eps ~ N(0, 1).
    Boxes, semantic and instance masks describe what is *visible* after painting.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not isinstance(size, int) or size < 16:
        raise ValueError(f"size must be an int >= 16, got {size!r}")
    if not isinstance(max_objects, int) or max_objects < 1:
        raise ValueError(f"max_objects must be a positive int, got {max_objects!r}")
    if not (
        isinstance(min_size, int) and isinstance(max_size, int) and 5 <= min_size <= max_size < size
    ):
        raise ValueError(
            f"need ints 5 <= min_size <= max_size < size={size}, got {min_size!r}, {max_size!r}"
        )
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    if not 0 <= max_overlap <= 1:
        raise ValueError(f"max_overlap must be in [0, 1], got {max_overlap}")
    rng = np.random.default_rng(seeded(seed))
    images = np.zeros((n, size, size), np.float32)
    semantic = np.zeros((n, size, size), np.int64)
    instances = np.zeros((n, size, size), np.int64)
    boxes, labels = [], []
    for i in range(n):
        placed = []  # (box, kind, mask, brightness)
        for _ in range(rng.integers(1, max_objects + 1)):
            for _attempt in range(20):
                side = rng.integers(min_size, max_size + 1)
                x0, y0 = rng.integers(0, size - side + 1, size=2)
                box = np.array([x0, y0, x0 + side, y0 + side], np.float32)
                if all(_iou(box, b) <= max_overlap for b, *_ in placed):
                    break
            else:
                continue
            kind = int(rng.integers(len(SCENE_CLASSES)))
            mask = shape_mask(kind, x0 + side / 2, y0 + side / 2, side / 2, size)
            placed.append((box, kind, mask, rng.uniform(0.55, 1.0)))
        image = np.full((size, size), rng.uniform(0.0, 0.25), np.float32)
        for j, (_, kind, mask, bright) in enumerate(placed):
            image[mask] = bright
            semantic[i][mask] = kind + 1
            instances[i][mask] = j + 1
        images[i] = image
        visible_boxes, visible_labels, ids = [], [], np.zeros(len(placed) + 1, np.int64)
        for j, (_, kind, _, _) in enumerate(placed):
            rows, cols = np.nonzero(instances[i] == j + 1)
            if len(rows) == 0:  # painted over completely
                continue
            visible_boxes.append([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])
            visible_labels.append(kind)
            ids[j + 1] = len(visible_boxes)
        instances[i] = ids[instances[i]]  # renumber so that id j + 1 is box j
        boxes.append(torch.tensor(visible_boxes, dtype=torch.float32).reshape(-1, 4))
        labels.append(torch.tensor(visible_labels, dtype=torch.int64))
    images = np.clip(images + noise * rng.standard_normal(images.shape), 0, 1).astype(np.float32)
    return Scenes(
        torch.from_numpy(images)[:, None],
        boxes,
        labels,
        torch.from_numpy(semantic),
        torch.from_numpy(instances),
    )


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def make_objects(n: int, *, size: int = 16, noise: float = 0.1, seed: int = 0):
    """Single-object crops for classification: (X (n, 1, size, size) float32, y (n,) int64).

    One shape per image, a side of 7..``size`` - 2 pixels, near the centre (shifted by up to
    one pixel), on the same kind of background as :func:`make_scenes`; the classes are drawn
    uniformly.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not isinstance(size, int) or size < 10:
        raise ValueError(f"size must be an int >= 10, got {size!r}")
    rng = np.random.default_rng(seeded(seed))
    X = np.empty((n, size, size), np.float32)
    y = rng.integers(len(SCENE_CLASSES), size=n)
    for i in range(n):
        side = rng.integers(7, size - 1)
        cx, cy = size / 2 + rng.uniform(-1, 1, size=2)
        X[i] = rng.uniform(0.0, 0.25)
        X[i][shape_mask(int(y[i]), cx, cy, side / 2, size)] = rng.uniform(0.55, 1.0)
    X = np.clip(X + noise * rng.standard_normal(X.shape), 0, 1).astype(np.float32)
    return torch.from_numpy(X)[:, None], torch.from_numpy(y)
