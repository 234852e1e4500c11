"""Copy-paste scene synthesis from white-background catalogue product photos."""

from __future__ import annotations

import csv
import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from engine.search.taxonomy import coarse_class

WHITE_THRESHOLD = 235  # a pixel whose smallest channel is below this is product
WEAK_THRESHOLD = 250  # lighter pixels count when connected to product pixels
MIN_VISIBLE = 0.4  # drop a box when less of its object than this is visible
MIN_BOX_PX = 4
MAX_PARTS = 30  # more separate mask components than this is not one product
SCALE_RANGES = {  # object's longer side as a fraction of the image's longer side
    "sofa": (0.18, 0.7),
    "bed": (0.2, 0.7),
    "storage": (0.08, 0.7),
    "table": (0.12, 0.65),
    "chair": (0.08, 0.5),
    "lamp": (0.06, 0.5),
    "rug": (0.15, 0.7),
    "fixture": (0.06, 0.45),
}
SMALL_SCALE = (0.05, 0.35)
FLOOR_CLASSES = {"sofa", "bed", "storage", "table", "chair", "rug"}
NO_RECTANGLE_CLASSES = {"textile"}  # rectangular "cut-outs" are close-up photos


@dataclass(frozen=True)
class Product:
    """One catalogue photo with its family and coarse class."""

    catalog: str
    product_id: str
    image: str
    path: str
    family: str
    category: str
    cls: str


@dataclass
class Placed:
    """A pasted object: its product, visible box (x0, y0, x1, y1) and visibility."""

    product: Product
    box: tuple[int, int, int, int]
    visible: float
    labelled: bool


def load_products(catalog_dirs: list[str | Path]) -> list[Product]:
    """Read each catalogue's products.csv, skipping rows without a category."""
    products = []
    for root in map(Path, catalog_dirs):
        with open(root / "products.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                category = (row.get("category") or "").strip()
                if not category or not row.get("image"):
                    continue
                family = row.get("family") or row.get("name") or row["product_id"]
                products.append(
                    Product(
                        catalog=root.name,
                        product_id=row["product_id"],
                        image=row["image"],
                        path=str(root / row["image"]),
                        family=family.strip().upper(),
                        category=category,
                        cls=coarse_class(category),
                    )
                )
    return products


def family_split(family: str, seed: int, val_fraction: float) -> str:
    """Deterministically assign a product family to "train" or "val"."""
    digest = hashlib.sha1(f"{seed}:{family}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    return "val" if u < val_fraction else "train"


def fill_small_holes(mask: np.ndarray, max_fraction: float = 0.15) -> np.ndarray:
    """Fill enclosed background holes smaller than a fraction of the mask's box."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(1 - mask, connectivity=4)
    if n <= 1:
        return mask
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    ys, xs = np.nonzero(mask)
    box_area = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
    small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < max_fraction * box_area)
    holes = np.setdiff1d(small, np.append(border, 0))
    return np.where(np.isin(labels, holes), 1, mask).astype(np.uint8)


def product_mask(rgb: np.ndarray, threshold: int = WHITE_THRESHOLD, weak: int = WEAK_THRESHOLD) -> np.ndarray:
    """Binary uint8 product mask by hysteresis on the smallest channel, cleaned.

    Pixels below ``threshold`` are surely product; lighter pixels below ``weak``
    (white products are ~240-248, the photo background is ~255) join when they
    connect to them.  Small enclosed holes are then filled.
    """
    darkest = rgb.min(axis=2)
    mask = (darkest < weak).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return np.zeros_like(mask)
    strong = np.bincount(labels[darkest < threshold], minlength=n)
    areas = stats[:, cv2.CC_STAT_AREA]
    ok = (strong >= 10) & (areas >= 20)
    ok[0] = False
    if not ok.any():
        return np.zeros_like(mask)
    ok &= areas >= 0.05 * areas[ok].max()
    return fill_small_holes(ok[labels].astype(np.uint8))


def mask_is_plausible(mask: np.ndarray, allow_rectangle: bool = True) -> bool:
    """Reject empty, tiny, frame-filling or border-hugging (non-white photo) masks.

    With ``allow_rectangle=False`` a large mask that fills its own box is also
    rejected: for textiles those are close-up or room photos, not cut-outs.
    """
    fraction = mask.mean()
    border = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]]).mean()
    if fraction < 0.005 or fraction > 0.9 or border > 0.5:
        return False
    ys, xs = np.nonzero(mask)
    h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    if not allow_rectangle and fraction > 0.25 and mask.sum() >= 0.97 * h * w:
        return False
    if cv2.connectedComponents(mask, connectivity=8)[0] - 1 > MAX_PARTS:
        return False  # scattered speckles: a patterned swatch, not an object
    return max(h, w) >= 0.1 * max(mask.shape)


def load_cutout(path: str, max_side: int, allow_rectangle: bool = True) -> Image.Image | None:
    """RGBA cut-out of a product photo file cropped to its mask, or None if implausible."""
    with Image.open(path) as im:
        return cutout(np.asarray(im.convert("RGB")), max_side, allow_rectangle)


def cutout(rgb: np.ndarray, max_side: int, allow_rectangle: bool = True) -> Image.Image | None:
    """RGBA cut-out of a product photo's (H, W, 3) uint8 pixels cropped to its mask, or None if implausible."""
    mask = product_mask(rgb)
    if not mask_is_plausible(mask, allow_rectangle):
        return None
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    alpha = Image.fromarray(mask * 255).filter(ImageFilter.GaussianBlur(0.6))
    cut = Image.fromarray(rgb).convert("RGBA")
    cut.putalpha(alpha)
    cut = cut.crop((x0, y0, x1, y1))
    scale = max_side / max(cut.size)
    if scale < 1:
        size = (max(1, round(cut.width * scale)), max(1, round(cut.height * scale)))
        cut = cut.resize(size, Image.Resampling.LANCZOS)
    return cut


@lru_cache(maxsize=1024)
def cached_cutout(path: str, max_side: int, allow_rectangle: bool) -> Image.Image | None:
    """`load_cutout`, cached per process (the same products are pasted again and again)."""
    return load_cutout(path, max_side, allow_rectangle)


def pick_products(rng: np.random.Generator, pool: list[Product], weights: np.ndarray, n: int) -> list[Product]:
    """Draw n products with the given per-product sampling weights."""
    idx = rng.choice(len(pool), size=n, replace=True, p=weights)
    return [pool[i] for i in idx]


def class_balanced_weights(pool: list[Product], power: float = 0.5) -> np.ndarray:
    """Per-product weights giving each class a share proportional to count**power."""
    counts: dict[str, int] = {}
    for p in pool:
        counts[p.cls] = counts.get(p.cls, 0) + 1
    w = np.array([counts[p.cls] ** power / counts[p.cls] for p in pool])
    return w / w.sum()


def augment_cutout(rng: np.random.Generator, cut: Image.Image, side: int) -> Image.Image:
    """Resize a cut-out so its longer side is `side`, then flip, rotate, jitter colour."""
    scale = side / max(cut.size)
    size = (max(2, round(cut.width * scale)), max(2, round(cut.height * scale)))
    cut = cut.resize(size, Image.Resampling.BILINEAR)
    if rng.random() < 0.5:
        cut = cut.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if rng.random() < 0.3:
        angle = float(rng.uniform(-7, 7))
        cut = cut.rotate(angle, Image.Resampling.BICUBIC, expand=True)
    alpha = cut.getchannel("A")
    rgb = cut.convert("RGB")
    for enhancer in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
        rgb = enhancer(rgb).enhance(float(rng.uniform(0.75, 1.25)))
    rgb.putalpha(alpha)
    return rgb


def object_position(
    rng: np.random.Generator,
    size: tuple[int, int],
    canvas: tuple[int, int],
    floor_y: int | None,
) -> tuple[int, int]:
    """Top-left corner for an object, mostly inside; floor objects stand below floor_y."""
    (ow, oh), (w, h) = size, canvas
    x = int(rng.uniform(-0.25 * ow, w - 0.75 * ow))
    if floor_y is not None:
        bottom = rng.uniform(min(floor_y + 0.05 * h, h), h + 0.15 * oh)
        return x, int(bottom - oh)
    return x, int(rng.uniform(-0.25 * oh, h - 0.75 * oh))


def paste_shadow(rng: np.random.Generator, canvas: Image.Image, alpha: Image.Image, x: int, y: int) -> None:
    """Darken the canvas under a soft, offset copy of the object's alpha."""
    radius = max(2.0, 0.04 * max(alpha.size))
    strength = float(rng.uniform(0.2, 0.5))
    shadow = alpha.filter(ImageFilter.GaussianBlur(radius)).point(lambda v: int(v * strength))
    dx = int(rng.uniform(-0.05, 0.05) * alpha.width)
    dy = int(rng.uniform(0.0, 0.04) * alpha.height)
    canvas.paste((0, 0, 0), (x + dx, y + dy), shadow)


def paste_objects(
    rng: np.random.Generator,
    canvas: Image.Image,
    cutouts: list[tuple[Product, Image.Image]],
    floor_y: int | None,
) -> list[Placed]:
    """Paste cut-outs (largest first) and compute boxes from their visible masks."""
    w, h = canvas.size
    ids = np.full((h, w), -1, np.int16)
    full_areas = []
    for k, (product, cut) in enumerate(cutouts):
        x, y = object_position(rng, cut.size, (w, h), floor_y)
        opaque = np.asarray(cut.getchannel("A")) > 127
        full_areas.append(int(opaque.sum()))
        if floor_y is not None and product.cls in FLOOR_CLASSES:
            paste_shadow(rng, canvas, cut.getchannel("A"), x, y)
        canvas.paste(cut, (x, y), cut)
        cx0, cy0 = max(x, 0), max(y, 0)
        cx1, cy1 = min(x + cut.width, w), min(y + cut.height, h)
        if cx1 > cx0 and cy1 > cy0:
            sub = opaque[cy0 - y : cy1 - y, cx0 - x : cx1 - x]
            ids[cy0:cy1, cx0:cx1][sub] = k
    return [visible_box(ids == k, product, full_areas[k]) for k, (product, _) in enumerate(cutouts)]


def visible_box(visible: np.ndarray, product: Product, full_area: int) -> Placed:
    """Box of the visible pixels and whether enough of the object shows to label it."""
    area = int(visible.sum())
    if area == 0:
        return Placed(product, (0, 0, 0, 0), 0.0, False)
    ys = np.flatnonzero(visible.any(axis=1))
    xs = np.flatnonzero(visible.any(axis=0))
    box = (int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1)
    ratio = area / max(full_area, 1)
    big_enough = min(box[2] - box[0], box[3] - box[1]) >= MIN_BOX_PX
    return Placed(product, box, round(ratio, 3), ratio >= MIN_VISIBLE and big_enough)


def object_sides(rng: np.random.Generator, products: list[Product], long_side: int) -> list[int]:
    """Log-uniform object sizes (longer side in pixels) from per-class ranges."""
    sides = []
    for p in products:
        lo, hi = SCALE_RANGES.get(p.cls, SMALL_SCALE)
        frac = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        sides.append(max(8, round(frac * long_side)))
    return sides


def finish_image(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    """Global lighting gradient, colour cast, blur and sensor noise."""
    w, h = img.size
    arr = np.asarray(img, dtype=np.float32)
    theta = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = (np.cos(theta) * xx / w + np.sin(theta) * yy / h) - 0.5
    arr *= (1 + rng.uniform(0, 0.35) * ramp)[..., None]
    arr *= rng.uniform(0.92, 1.08, size=3) * rng.uniform(0.8, 1.15)
    if rng.random() < 0.5:
        arr += rng.normal(0, rng.uniform(1, 7), size=arr.shape)
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if rng.random() < 0.3:
        out = out.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.3))))
    return out
