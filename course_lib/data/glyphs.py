"""A 21-class image data set of letters rendered offline from the fonts matplotlib ships.

Each class is one capital letter. Every image is a template (the letter in one of several
DejaVu / STIX / Computer Modern font files inside matplotlib) warped by a random affine map
(rotation, scale, shear, shift) and corrupted by Gaussian noise. All randomness comes from one
seed, so the same call always gives the same images.
"""

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..device import seeded
from .split import Split

#: the 21 classes: capitals without I, J, O, Q, Z (too close to 1, L, 0, O and 2/N when rotated)
GLYPH_CLASSES = "ABCDEFGHKLMNPRSTUVWXY"

#: font files bundled with matplotlib (mpl-data/fonts/ttf), so rendering needs no system fonts
GLYPH_FONTS = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralBol.ttf",
    "cmr10.ttf",
)

_TEMPLATE = 64  # pixels per side of a rendered template (before warping and down-sampling)


def _font_files():
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    files = [folder / name for name in GLYPH_FONTS if (folder / name).exists()]
    if len(files) < 3:
        raise RuntimeError(f"expected matplotlib's bundled fonts in {folder}, found {files}")
    return files


@lru_cache(maxsize=2)
def glyph_templates(size: int = _TEMPLATE) -> np.ndarray:
    """Render every (font, letter) once: float32 array (fonts, 21, size, size) in [0, 1].

    Each letter is drawn as a filled TextPath, scaled so that its larger side spans 70 % of the
    square and centred, all on one Agg canvas (one draw call for every template).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import PathPatch
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    fonts = _font_files()
    rows, cols = len(fonts), len(GLYPH_CLASSES)
    fig = Figure(figsize=(cols * size / 100, rows * size / 100), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, cols * size)
    ax.set_ylim(rows * size, 0)  # y down, like image rows
    ax.axis("off")
    for r, font in enumerate(fonts):
        prop = FontProperties(fname=str(font))
        for c, letter in enumerate(GLYPH_CLASSES):
            path = TextPath((0, 0), letter, size=100, prop=prop)
            (x0, y0), (x1, y1) = path.get_extents().get_points()
            scale = 0.7 * size / max(x1 - x0, y1 - y0)
            place = (
                Affine2D()
                .translate(-(x0 + x1) / 2, -(y0 + y1) / 2)
                .scale(scale, -scale)  # flip: text y points up, image rows point down
                .translate((c + 0.5) * size, (r + 0.5) * size)
            )
            patch = PathPatch(place.transform_path(path), facecolor="black", edgecolor="none")
            ax.add_patch(patch)
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba(), dtype=np.float32)
    ink = 1.0 - rgba[..., 0] / 255.0  # black ink on white -> 1 where the letter is
    return ink.reshape(rows, size, cols, size).transpose(0, 2, 1, 3).copy()


def _random_affine(n, generator, rotation, scale, shear, shift):
    """(n, 2, 3) matrices in normalised coordinates for ``F.affine_grid``."""

    def uniform(low, high):
        return low + (high - low) * torch.rand(n, generator=generator)

    angle = torch.deg2rad(uniform(-rotation, rotation))
    zoom = uniform(*scale)
    sh = uniform(-shear, shear)
    tx, ty = uniform(-shift, shift), uniform(-shift, shift)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # output -> input sampling map: (rotation @ shear) / zoom, then a shift
    a = torch.stack(
        [torch.stack([cos, -sin + cos * sh], -1), torch.stack([sin, cos + sin * sh], -1)], 1
    )
    theta = torch.cat([a / zoom[:, None, None], torch.stack([tx, ty], -1)[:, :, None]], 2)
    return theta


def make_glyphs(
    n_per_class: int = 200,
    *,
    size: int = 28,
    seed: int = 0,
    rotation: float = 15.0,
    scale: tuple = (0.8, 1.15),
    shear: float = 0.15,
    shift: float = 0.12,
    noise: float = 0.1,
):
    """Return (X, y): X float32 (21 n_per_class, 1, size, size) in [0, 1], y int64 in 0..20.

    Image k shows letter ``GLYPH_CLASSES[y[k]]`` in a random bundled font, warped by a random
    affine map x_in = A x_out + t (rotation within +-``rotation`` degrees, zoom in ``scale``,
    shear up to ``shear``, shift up to ``shift`` of the half-width), then
    x = clip(x + noise * eps, 0, 1) with eps ~ N(0, 1). The classes are balanced and shuffled.
    """
    if not isinstance(n_per_class, int) or n_per_class < 1:
        raise ValueError(f"n_per_class must be a positive int, got {n_per_class!r}")
    if not isinstance(size, int) or not 8 <= size <= _TEMPLATE:
        raise ValueError(f"size must be an int between 8 and {_TEMPLATE}, got {size!r}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    templates = torch.from_numpy(glyph_templates())  # (fonts, classes, T, T)
    n_fonts, n_classes = templates.shape[:2]
    g = torch.Generator().manual_seed(seeded(seed))
    n = n_per_class * n_classes
    y = torch.arange(n_classes).repeat(n_per_class)
    y = y[torch.randperm(n, generator=g)]
    font = torch.randint(n_fonts, (n,), generator=g)
    source = templates[font, y][:, None]  # (n, 1, T, T)
    theta = _random_affine(n, g, rotation, scale, shear, shift)
    # sample at twice the target size, then average 2x2 blocks: cheap anti-aliasing
    grid = F.affine_grid(theta, (n, 1, 2 * size, 2 * size), align_corners=False)
    X = F.avg_pool2d(F.grid_sample(source, grid, align_corners=False), 2)
    X = (X + noise * torch.randn(X.shape, generator=g)).clamp(0.0, 1.0)
    return X, y


def load_glyphs(n_per_class: int = 200, *, size: int = 28, test: float = 0.25, seed: int = 0):
    """Return (train, test) Splits of ``make_glyphs(n_per_class, size=size, seed=seed)``.

    The images are already shuffled, so the last ``test`` fraction is the test set.
    """
    if not 0 < test < 1:
        raise ValueError(f"test must be a fraction in (0, 1), got {test}")
    X, y = make_glyphs(n_per_class, size=size, seed=seed)
    cut = len(y) - round(test * len(y))
    return Split(X[:cut], y[:cut]), Split(X[cut:], y[cut:])
