"""Every generated background, in one place: training rooms and textures, held-out query scenes, shot backdrops.

- `make_background`: the detector's synthetic scenes (`training.detector.synthetic`): a wall over a floor in
  perspective, a plain or textured surface (flat, noise, gradient, wood, tiles), or a crop of a background photo.
- `held_out_background`: the benchmark's query scenes (`training.queries`), in styles and colours the training
  scenes never show (bokeh, clouds, stripes, sunlit walls, in a palette of saturated and dark colours).
- `shot_backdrop`: a plain, gradient or blotchy backdrop for the head's augmented product shots (`training.head.data`).

Each draws from the `rng` it is given, in a fixed order, so the same seed gives the same pixels.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

WALLS = np.array(
    [[238, 236, 230], [224, 219, 208], [243, 243, 241], [205, 200, 190],
     [212, 222, 228], [232, 218, 198], [188, 200, 186], [122, 132, 142],
     [62, 72, 84], [230, 204, 190], [170, 160, 150]], np.float32,
)  # fmt: skip
FLOORS = np.array(
    [[160, 118, 78], [192, 152, 106], [118, 84, 56], [212, 186, 150],
     [150, 150, 148], [88, 70, 56], [200, 200, 194], [60, 60, 62]], np.float32,
)  # fmt: skip
HELD_OUT_PALETTE = np.array(
    [[38, 92, 96], [196, 150, 52], [170, 86, 62], [40, 48, 82], [136, 152, 112], [182, 128, 140],
     [88, 70, 106], [30, 30, 34], [96, 122, 168], [222, 198, 120], [64, 104, 70], [150, 44, 52]], np.float32,
)  # fmt: skip
HELD_OUT_STYLES = ("bokeh", "clouds", "stripes", "sunlit")


def pick_colour(rng: np.random.Generator, palette: np.ndarray) -> np.ndarray:
    """A palette colour with jitter, or occasionally any colour."""
    if rng.random() < 0.15:
        return rng.uniform(20, 250, size=3).astype(np.float32)
    return palette[rng.integers(len(palette))] + rng.normal(0, 10, 3).astype(np.float32)


def smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Low-frequency noise in about [-1, 1] from an upsampled random grid."""
    grid = rng.standard_normal((cells, cells)).astype(np.float32)
    up = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    return up / max(float(np.abs(up).max()), 1e-6)


def random_warp(rng: np.random.Generator, arr: np.ndarray, amount: float) -> np.ndarray:
    """Random perspective distortion of an image, reflecting at the borders."""
    h, w = arr.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + rng.uniform(-amount, amount, (4, 2)).astype(np.float32) * [w, h]
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    return cv2.warpPerspective(arr, m, (w, h), borderMode=cv2.BORDER_REFLECT)


def texture(rng: np.random.Generator, h: int, w: int, colour: np.ndarray, kind: str) -> np.ndarray:
    """Float HxWx3 texture: flat, noise, gradient, wood planks or tiles."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    shade = 1 + 0.05 * smooth_noise(rng, h, w, int(rng.integers(2, 5)))
    if kind == "noise":
        shade += 0.15 * smooth_noise(rng, h, w, int(rng.integers(6, 40)))
    elif kind == "gradient":
        shade += rng.uniform(-0.3, 0.3) * (yy / h - 0.5) + rng.uniform(-0.2, 0.2) * (xx / w - 0.5)
    elif kind == "wood":
        pw = float(rng.uniform(w / 14, w / 4))
        plank = (xx // pw).astype(int)
        tones = rng.normal(0, 0.07, plank.max() + 1)
        grain = np.sin(xx / pw * rng.uniform(8, 20) + 4 * smooth_noise(rng, h, w, 8))
        shade += tones[plank] + 0.04 * grain - 0.25 * ((xx % pw) < 2)
    elif kind == "tiles":
        ts = float(rng.uniform(min(h, w) / 12, min(h, w) / 3))
        checker = ((xx // ts + yy // ts) % 2) * rng.uniform(-0.15, 0.15)
        grout = ((xx % ts) < 2) | ((yy % ts) < 2)
        shade += checker + np.where(grout, rng.uniform(-0.3, 0.2), 0)
    tex = colour[None, None, :] * shade[..., None]
    return tex + rng.normal(0, 2, size=tex.shape).astype(np.float32)


def floor_plane(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Floor texture warped into perspective (converging towards the horizon)."""
    kind = rng.choice(["wood", "wood", "tiles", "noise", "flat"])
    tex = texture(rng, h, w, pick_colour(rng, FLOORS), str(kind))
    c, c2 = rng.uniform(0.1, 0.4) * w, rng.uniform(0.0, 0.3) * w
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[c, 0], [w - c, 0], [w + c2, h], [-c2, h]])
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(tex, m, (w, h), borderMode=cv2.BORDER_REFLECT)


def add_openings(rng: np.random.Generator, wall: np.ndarray) -> None:
    """Draw unlabelled windows or doors (distractors) on a wall, in place."""
    h, w = wall.shape[:2]
    for _ in range(int(rng.integers(0, 3))):
        ow, oh = int(rng.uniform(0.1, 0.35) * w), int(rng.uniform(0.3, 0.9) * h)
        x, y = int(rng.uniform(0, w - ow)), int(rng.uniform(0, max(1, h - oh)))
        frame = int(rng.integers(3, 10))
        wall[y : y + oh, x : x + ow] = pick_colour(rng, WALLS) * 0.9
        fill = rng.uniform(180, 255, 3) if rng.random() < 0.6 else pick_colour(rng, WALLS)
        wall[y + frame : y + oh - frame, x + frame : x + ow - frame] = fill


def room_background(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, int]:
    """Wall over floor split by a horizon; returns the image and the horizon row."""
    horizon = int(h * rng.uniform(0.3, 0.75))
    kind = rng.choice(["flat", "flat", "noise", "gradient", "tiles", "wood"])
    wall = texture(rng, h, w, pick_colour(rng, WALLS), str(kind))
    if rng.random() < 0.5:
        add_openings(rng, wall[:horizon])
    arr = wall.copy()
    arr[horizon:] = floor_plane(rng, h - horizon, w)
    if rng.random() < 0.6:
        band = max(2, int(rng.uniform(0.01, 0.03) * h))
        arr[max(0, horizon - band) : horizon] = pick_colour(rng, WALLS)
    return arr, horizon


def photo_background(rng: np.random.Generator, h: int, w: int, path: str) -> np.ndarray:
    """Random, flipped, perspective-distorted crop of a background photo."""
    with Image.open(path) as im:
        arr = np.asarray(im.convert("RGB"), dtype=np.float32)
    ph, pw = arr.shape[:2]
    frac = rng.uniform(0.4, 1.0)
    ch, cw = max(8, int(ph * frac)), max(8, int(pw * frac))
    y, x = int(rng.integers(0, ph - ch + 1)), int(rng.integers(0, pw - cw + 1))
    crop = cv2.resize(arr[y : y + ch, x : x + cw], (w, h), interpolation=cv2.INTER_AREA)
    return crop[:, ::-1] if rng.random() < 0.5 else crop


def make_background(rng: np.random.Generator, h: int, w: int, photos: list[str]) -> tuple[Image.Image, int | None]:
    """A training scene's background: a room, plain texture or photo; the floor row when it is a room."""
    r, floor_y = rng.random(), None
    if photos and r < 0.3:
        arr = photo_background(rng, h, w, photos[int(rng.integers(len(photos)))])
        arr = random_warp(rng, arr, 0.1)
    elif r < 0.7:
        arr, floor_y = room_background(rng, h, w)
    else:
        kind = rng.choice(["flat", "noise", "gradient", "wood", "tiles"])
        arr = texture(rng, h, w, pick_colour(rng, np.vstack([WALLS, FLOORS])), str(kind))
        arr = random_warp(rng, arr, 0.15) if rng.random() < 0.5 else arr
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)), floor_y


def held_out_colour(rng: np.random.Generator) -> np.ndarray:
    """A colour from the held-out palette, jittered."""
    return HELD_OUT_PALETTE[rng.integers(len(HELD_OUT_PALETTE))] + rng.normal(0, 12, 3).astype(np.float32)


def bokeh(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A diagonal two-colour gradient with out-of-focus light discs."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = np.clip(0.5 + rng.uniform(-1, 1) * (xx / w - 0.5) + rng.uniform(-1, 1) * (yy / h - 0.5), 0, 1)[..., None]
    arr = held_out_colour(rng) * (1 - t) + held_out_colour(rng) * t
    light = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(8, 40))):
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.circle(light, centre, int(rng.uniform(0.02, 0.12) * min(h, w)), float(rng.uniform(0.2, 0.8)), -1)
    light = cv2.GaussianBlur(light, (0, 0), float(rng.uniform(0.005, 0.02) * w))
    tint = rng.uniform(180, 255, 3).astype(np.float32)
    return arr * (1 - light[..., None] * 0.6) + tint * light[..., None] * 0.6


def clouds(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Two colours blended by multi-octave smooth noise (blurred, photo-like texture)."""
    mix = sum(smooth_noise(rng, h, w, cells) / 2**i for i, cells in enumerate((3, 9, 27, 81)))
    mix = (np.clip(0.5 + 0.35 * mix, 0, 1))[..., None]
    return held_out_colour(rng) * (1 - mix) + held_out_colour(rng) * mix


def stripes(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Striped wallpaper (vertical or diagonal), slightly warped and defocused."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = float(rng.uniform(w / 40, w / 8))
    along = xx + (yy * rng.uniform(-1, 1) if rng.random() < 0.4 else 0)
    band = ((along % period) < period * rng.uniform(0.3, 0.7))[..., None]
    arr = np.where(band, held_out_colour(rng), held_out_colour(rng)).astype(np.float32)
    arr = random_warp(rng, arr, 0.08)
    return cv2.GaussianBlur(arr, (0, 0), float(rng.uniform(0.5, 3.0)))


def sunlit(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A wall with a slanted floor line and a soft parallelogram of window light."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    line = h * rng.uniform(0.45, 0.8) + (xx - w / 2) * rng.uniform(-0.4, 0.4)
    arr = np.where((yy > line)[..., None], held_out_colour(rng), held_out_colour(rng)).astype(np.float32)
    x0, skew = rng.uniform(0, 0.7) * w, rng.uniform(-0.6, 0.6)
    patch = ((xx - skew * yy > x0) & (xx - skew * yy < x0 + rng.uniform(0.1, 0.3) * w)).astype(np.float32)
    patch = cv2.GaussianBlur(patch, (0, 0), float(rng.uniform(4, 15)))
    return arr * (1 + rng.uniform(0.3, 0.7) * patch[..., None])


def held_out_background(rng: np.random.Generator, h: int, w: int) -> tuple[Image.Image, str]:
    """A query scene's background: one of the held-out styles, with film grain; and the style's name."""
    kind = HELD_OUT_STYLES[int(rng.integers(len(HELD_OUT_STYLES)))]
    arr = {"bokeh": bokeh, "clouds": clouds, "stripes": stripes, "sunlit": sunlit}[kind](rng, h, w)
    arr = arr + rng.normal(0, 2, arr.shape).astype(np.float32)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)), kind


def shot_backdrop(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A product shot's backdrop: plain, gradient or blotchy, (H, W, 3) float32 in 0..255."""
    base = rng.uniform(40, 245, size=3)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    theta = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(theta) * xx / width + np.sin(theta) * yy / height)[..., None]
    arr = base + ramp * rng.uniform(-60, 60, size=3)
    if rng.random() < 0.5:
        cells = rng.normal(0, rng.uniform(5, 25), size=(4, 4, 3)).astype(np.float32)
        arr += np.asarray(Image.fromarray(cells[..., 0]).resize((width, height), Image.Resampling.BICUBIC))[..., None]
    return np.clip(arr, 0, 255).astype(np.float32)
