"""Product colours: the dominant CIELAB colours of a product crop, and colour words as regions of colour space.

`dominant_colors` drops the studio background (near-white pixels connected to the border of the crop), then
clusters the rest in CIELAB into at most `CLUSTERS` colours, each with its share of the product's pixels.
A colour word ("green", "dark grey", "navy") is a region in lightness / chroma / hue (`ColorRegion`); a colour
lies in it when its CIELAB distance to the region is under `TOLERANCE`. No string of the catalogue is involved.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image

SAMPLE_SIDE = 64  # colours are computed on a thumbnail of at most this side
BACKGROUND = 245  # a pixel whose smallest channel is at least this, connected to the border, is the backdrop
MIN_FOREGROUND = 0.03  # below this share of product pixels the whole crop is used (a white product on white)
CLUSTERS = 3
KMEANS_STEPS = 12
TOLERANCE = 8.0  # CIELAB units (about one just-noticeable difference times 3) around a region


@dataclass(frozen=True)
class ColorRegion:
    """A region of CIELAB in polar form: lightness L* in [0, 100], chroma C*, hue angle h in degrees."""

    lightness: tuple[float, float] = (0.0, 100.0)
    chroma: tuple[float, float] = (0.0, 200.0)
    hue: tuple[float, float] | None = None  # (from, to) counter-clockwise, may wrap past 360; None: any hue

    def distance(self, lab: np.ndarray) -> np.ndarray:
        """(N, 3) CIELAB colours -> (N,) distance to the region (0 inside), in CIELAB units."""
        lab = np.asarray(lab, dtype=np.float64).reshape(-1, 3)
        light, chroma = lab[:, 0], np.hypot(lab[:, 1], lab[:, 2])
        d_light = _outside(light, self.lightness)
        d_chroma = _outside(chroma, self.chroma)
        d_hue = np.zeros(len(lab))
        if self.hue is not None:
            angle = np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360
            d_hue = np.radians(_angle_outside(angle, self.hue)) * chroma  # arc length at the colour's chroma
        return np.sqrt(d_light**2 + d_chroma**2 + d_hue**2)


ACHROMATIC = 10.0  # chroma under this reads as white, grey or black
REGIONS = {
    "white": ColorRegion(lightness=(88, 100), chroma=(0, ACHROMATIC)),
    "off-white": ColorRegion(lightness=(82, 100), chroma=(0, 16)),
    "grey": ColorRegion(lightness=(25, 88), chroma=(0, ACHROMATIC)),
    "black": ColorRegion(lightness=(0, 22), chroma=(0, 15)),
    "red": ColorRegion(lightness=(15, 62), chroma=(30, 200), hue=(10, 50)),
    "pink": ColorRegion(lightness=(50, 100), chroma=(12, 200), hue=(330, 30)),
    "orange": ColorRegion(lightness=(45, 85), chroma=(40, 200), hue=(45, 75)),
    "yellow": ColorRegion(lightness=(60, 100), chroma=(35, 200), hue=(75, 105)),
    "beige": ColorRegion(lightness=(65, 95), chroma=(8, 35), hue=(60, 100)),
    "brown": ColorRegion(lightness=(10, 60), chroma=(8, 200), hue=(30, 90)),
    "green": ColorRegion(chroma=(10, 200), hue=(100, 175)),
    "turquoise": ColorRegion(chroma=(10, 200), hue=(175, 235)),
    "blue": ColorRegion(chroma=(10, 200), hue=(235, 300)),
    "purple": ColorRegion(chroma=(12, 200), hue=(300, 340)),
}
SYNONYMS = {
    "gray": "grey", "offwhite": "off-white", "cream": "off-white", "ivory": "off-white", "silver": "light grey",
    "anthracite": "dark grey", "charcoal": "dark grey", "navy": "dark blue", "teal": "turquoise",
    "aqua": "turquoise", "petrol": "turquoise", "violet": "purple", "lilac": "light purple", "lavender": "light purple",
    "mauve": "purple", "rose": "pink", "olive": "green", "mustard": "yellow", "tan": "beige", "sand": "beige",
    "natural": "beige", "wood": "brown", "walnut": "brown",
}  # fmt: skip
MODIFIERS = {"light": (60.0, 100.0), "pale": (60.0, 100.0), "dark": (0.0, 50.0), "deep": (0.0, 50.0)}


def color_region(phrase: str) -> ColorRegion | None:
    """The region of a colour phrase ("green", "light blue", "navy", "dark grey"), or None for other words."""
    words = SYNONYMS.get(phrase.strip().lower(), phrase.strip().lower()).split()
    modifier = MODIFIERS.get(words[0]) if len(words) == 2 else None
    name = SYNONYMS.get(words[-1], words[-1]) if words else ""
    if (len(words) == 2 and modifier is None) or len(words) > 2 or name not in REGIONS:
        return None
    region = REGIONS[name]
    if modifier is None:
        return region
    low, high = max(region.lightness[0], modifier[0]), min(region.lightness[1], modifier[1])
    return replace(region, lightness=(low, max(low, high)))


def dominant_colors(image: Image.Image | np.ndarray, box=None, clusters: int = CLUSTERS) -> np.ndarray:
    """(K, 4) rows of L*, a*, b*, share: the crop's dominant colours, largest share first (shares sum to 1)."""
    pixels = _thumbnail(image, box)
    keep = _foreground(pixels)
    if keep.mean() < MIN_FOREGROUND:
        keep[:] = True
    lab = cv2.cvtColor(pixels.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)[keep].astype(np.float64)
    centres, counts = _kmeans(lab, min(clusters, len(lab)))
    order = np.argsort(-counts)
    shares = counts[order] / max(counts.sum(), 1)
    return np.column_stack([centres[order], shares]).astype(np.float32)


def color_share(colors: np.ndarray, region: ColorRegion, tolerance: float = TOLERANCE) -> float:
    """The share of the product's pixels whose dominant colour lies in (or within `tolerance` of) the region."""
    colors = np.asarray(colors, dtype=np.float64).reshape(-1, 4)
    if not len(colors):
        return 0.0
    return float(colors[region.distance(colors[:, :3]) <= tolerance, 3].sum())


def format_colors(colors: np.ndarray) -> str:
    """Dominant colours as stored in the index metadata: 'L,a,b,share;L,a,b,share'."""
    return ";".join(",".join(f"{v:.3g}" if i == 3 else f"{v:.1f}" for i, v in enumerate(row)) for row in colors)


def parse_colors(text) -> np.ndarray | None:
    """Inverse of `format_colors`; None for a missing or malformed value (an index built without colours)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        rows = [[float(v) for v in part.split(",")] for part in text.split(";")]
        colors = np.array(rows, dtype=np.float32)
    except ValueError:
        return None
    return colors if colors.ndim == 2 and colors.shape[1] == 4 and np.isfinite(colors).all() else None


def _thumbnail(image: Image.Image | np.ndarray, box) -> np.ndarray:
    """(H, W, 3) uint8 RGB of the box (whole image by default), shrunk to `SAMPLE_SIDE`."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    if box is not None:
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        image = image.crop((max(0, x0), max(0, y0), max(x0 + 1, x1), max(y0 + 1, y1)))
    image = image.convert("RGB")
    image.thumbnail((SAMPLE_SIDE, SAMPLE_SIDE), Image.Resampling.BOX)
    return np.asarray(image)


def _foreground(pixels: np.ndarray) -> np.ndarray:
    """(H, W) bool: not the near-white backdrop connected to the crop's border (a white product inside stays)."""
    white = (pixels.min(axis=2) >= BACKGROUND).astype(np.uint8)
    _, labels = cv2.connectedComponents(white, connectivity=4)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    backdrop = np.isin(labels, border[border > 0]) & (white > 0)
    return ~backdrop


def _kmeans(points: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic k-means (farthest-point start): (k, 3) centres and (k,) member counts."""
    if k <= 0:
        return np.zeros((0, 3)), np.zeros(0)
    centres = [np.median(points, axis=0)]
    for _ in range(1, k):
        gap = np.min([np.sum((points - c) ** 2, axis=1) for c in centres], axis=0)
        centres.append(points[int(np.argmax(gap))])
    centres = np.array(centres)
    for _ in range(KMEANS_STEPS):
        nearest = np.argmin(((points[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
        for j in range(k):
            if (nearest == j).any():
                centres[j] = points[nearest == j].mean(axis=0)
    counts = np.bincount(nearest, minlength=k).astype(np.float64)
    return centres[counts > 0], counts[counts > 0]


def _outside(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """How far each value lies outside [low, high] (0 inside)."""
    return np.maximum(bounds[0] - values, 0) + np.maximum(values - bounds[1], 0)


def _angle_outside(angle: np.ndarray, hue: tuple[float, float]) -> np.ndarray:
    """Degrees from each angle to the arc from hue[0] counter-clockwise to hue[1] (0 on the arc)."""
    start, end = hue
    span = (end - start) % 360
    offset = (angle - start) % 360
    inside = offset <= span
    to_start = np.minimum(offset, 360 - offset)
    to_end = np.minimum(np.abs(offset - span), 360 - np.abs(offset - span))
    return np.where(inside, 0.0, np.minimum(to_start, to_end))
