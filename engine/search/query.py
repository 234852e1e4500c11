"""What to search when nobody chose a box: a product shot by its product's outline, a room by its largest object.

A catalogue photo (one product on a plain white studio background), or a shopper's resized copy of one, is
recognised by its border: nearly all of it is near-white. Such a photo is searched by the box of its non-white
pixels (`product_shot_box`), which is how the catalogue builder indexes product shots too (without the
detector), so a product finds itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from engine.images import ImageLoadError

WHITE = 235  # a pixel whose smallest channel is at least this is background (as training.scenes.WHITE_THRESHOLD)
BORDER = 0.04  # the frame examined: this fraction of each side
PLAIN_SHARE = 0.9  # share of near-white frame pixels that makes a product shot
SAMPLE_SIDE = 256  # the check runs on a thumbnail of at most this side
PRODUCT_PHOTO = "product photo"  # how `default_query_box` says it chose the product's box in a product shot
MASK_MIN_PIXELS = 2  # a thumbnail row or column holds the product when this many of its pixels are not white
COPY_SIDE = 128  # copies are compared as blurred thumbnails of this side
COPY_MAD = 5.0  # mean absolute difference (0-255) under which a catalogue photo counts as the query's original
COPY_CANDIDATES = 20  # matches compared with the query photo
MIN_PHOTO_SIDE = 32  # pixels; a smaller photo holds nothing a detector or a shopper could point at


def check_query_photo(image: Image.Image) -> None:
    """Raise `ImageLoadError` with what to do next when a photo is too small to search."""
    if min(image.size) < MIN_PHOTO_SIDE:
        raise ImageLoadError(
            f"the photo is only {image.width} × {image.height} pixels; upload one at least {MIN_PHOTO_SIDE} pixels "
            "on each side (any phone photo works)."
        )


def is_product_shot(image: Image.Image) -> bool:
    """True for one product on a plain white background (a catalogue-style photo)."""
    return _white_border(_sample(image))


def product_shot_box(image: Image.Image) -> tuple[float, float, float, float] | None:
    """The xyxy box (source pixels) of the product in a product shot: its non-white pixels; None for other photos.

    Rows and columns of a thumbnail with at least `MASK_MIN_PIXELS` pixels whose smallest channel is below `WHITE`
    are the product (a lone JPEG speck is not); a shot that is all white is its own box.
    """
    pixels = _sample(image)
    if not _white_border(pixels):
        return None
    product = pixels.min(axis=2) < WHITE  # (h, w) bool
    rows = np.flatnonzero(product.sum(axis=1) >= MASK_MIN_PIXELS)
    cols = np.flatnonzero(product.sum(axis=0) >= MASK_MIN_PIXELS)
    if not len(rows) or not len(cols):
        return whole_image(image.size)
    sx, sy = image.width / pixels.shape[1], image.height / pixels.shape[0]
    return (
        float(max(0.0, np.floor(cols[0] * sx))),
        float(max(0.0, np.floor(rows[0] * sy))),
        float(min(image.width, np.ceil((cols[-1] + 1) * sx))),
        float(min(image.height, np.ceil((rows[-1] + 1) * sy))),
    )


def _sample(image: Image.Image) -> np.ndarray:
    """(h, w, 3) uint8: the photo as a thumbnail of at most `SAMPLE_SIDE` a side (the product-shot checks run on it)."""
    thumb = image.convert("RGB")
    thumb.thumbnail((SAMPLE_SIDE, SAMPLE_SIDE))
    return np.asarray(thumb)


def _white_border(pixels: np.ndarray) -> bool:
    """Whether nearly all of a (h, w, 3) thumbnail's frame is near-white."""
    h, w = pixels.shape[:2]
    bh, bw = max(1, round(h * BORDER)), max(1, round(w * BORDER))
    frame = np.concatenate(
        [pixels[:bh].reshape(-1, 3), pixels[-bh:].reshape(-1, 3), pixels[:, :bw].reshape(-1, 3),
         pixels[:, -bw:].reshape(-1, 3)]
    )  # fmt: skip
    return float((frame.min(axis=1) >= WHITE).mean()) >= PLAIN_SHARE


def whole_image(size: tuple[int, int]) -> tuple[float, float, float, float]:
    """The xyxy box of a whole (width, height) image."""
    return 0.0, 0.0, float(size[0]), float(size[1])


def default_query_box(image: Image.Image, detections: Sequence) -> tuple[tuple[float, ...], str]:
    """(box, why): the product's box in a product shot, else the largest detection, else the whole photo."""
    box = product_shot_box(image)
    if box is not None:
        return box, f"{PRODUCT_PHOTO}: the product on white"
    if detections:
        best = max(detections, key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]))
        return tuple(best.box), f"largest detection: {best.class_name} {best.confidence:.2f}"
    return whole_image(image.size), "no detection: the whole photo"


def _copy_thumbnail(image: Image.Image) -> np.ndarray:
    """(S, S, 3) float32: the photo squashed to a blurred square thumbnail (resizing and JPEG barely change it)."""
    square = image.convert("RGB").resize((COPY_SIDE, COPY_SIDE), Image.Resampling.BOX)
    return np.asarray(square.filter(ImageFilter.GaussianBlur(0.8)), dtype=np.float32)


def promote_copy(image: Image.Image, matches: list, image_path: Callable[[str], Path]) -> list:
    """`matches` with the catalogue photo the query is a copy of (if any) moved first, ranks renumbered.

    Embeddings place a product's colour and leg variants, shot the same way, almost on top of each other; a
    resized, re-saved copy of one photo can then land nearer a sibling. Among the first `COPY_CANDIDATES`
    matches, the one whose photo differs least from the query, pixel by pixel on thumbnails, is moved first
    when that difference is under `COPY_MAD`. No file hash is involved: any copy of the photo qualifies.
    `image_path` maps a match's `image` to its file (`Lookalike.image_path`).
    """
    query = _copy_thumbnail(image)
    best, best_mad = None, COPY_MAD
    for i, match in enumerate(matches[:COPY_CANDIDATES]):
        try:
            with Image.open(image_path(match.image)) as candidate:
                mad = float(np.abs(_copy_thumbnail(candidate) - query).mean())
        except (OSError, ValueError):  # unreadable, or outside the catalogue's folders
            continue
        if mad < best_mad:
            best, best_mad = i, mad
    if best is None or best == 0:
        return list(matches)
    ordered = [matches[best], *matches[:best], *matches[best + 1 :]]
    return [dataclasses.replace(m, rank=rank) for rank, m in enumerate(ordered, start=1)]
