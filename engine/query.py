"""What to search when nobody chose a box: a product shot is searched whole, a room by its largest object.

A catalogue photo (one product on a plain white studio background), or a shopper's resized copy of one, is
recognised by its border: nearly all of it is near-white. Such a photo is searched as a whole, which is how
the catalogue indexed it too (every product has a whole-photo entry), so a product finds itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

WHITE = 235  # a pixel whose smallest channel is at least this is background (as catalog.scenes.WHITE_THRESHOLD)
BORDER = 0.04  # the frame examined: this fraction of each side
PLAIN_SHARE = 0.9  # share of near-white frame pixels that makes a product shot
SAMPLE_SIDE = 256  # the check runs on a thumbnail of at most this side


def is_product_shot(image: Image.Image) -> bool:
    """True for one product on a plain white background (a catalogue-style photo)."""
    thumb = image.convert("RGB")
    thumb.thumbnail((SAMPLE_SIDE, SAMPLE_SIDE))
    pixels = np.asarray(thumb)  # (H, W, 3) uint8
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
    """(box, why): the whole photo for a product shot, else the largest detection, else the whole photo."""
    if is_product_shot(image):
        return whole_image(image.size), "product photo: the whole photo"
    if detections:
        best = max(detections, key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]))
        return tuple(best.box), f"largest detection: {best.class_name} {best.confidence:.2f}"
    return whole_image(image.size), "no detection: the whole photo"
