"""Query-side tricks for crop embeddings, measured without rebuilding the index: more context, flips, two scales.

`QueryTricks` wraps the service's `effnet-crop` embedder (with its head, if any) for queries only; catalogue
vectors stay as they were built. Each trick changes only how the query box is cropped and pooled:

- `pad`: extra context on every side, as a fraction of the box (the crop embedder's own margin comes on top);
- `flip`: the mirrored crop is embedded too and the two base vectors averaged (test-time augmentation);
- `scales`: several `pad` values embedded and averaged (multi-scale test-time augmentation); a negative value
  crops tighter than the index did;
- `cutout`: the background inside the box is whitened first (OpenCV GrabCut seeded with the box), so the query
  looks like a catalogue shot on white.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from PIL import Image

from engine.detection.detector import Analysis
from engine.embedding.crop import EffnetCropEmbedder, effnet_inputs, pixel_boxes, source_image
from engine.embedding.head import HeadEmbedder


def grown(boxes: np.ndarray, pad: float, size: tuple[int, int]) -> np.ndarray:
    """(N, 4) xyxy boxes grown by `pad` of their width / height on every side, clipped to the (w, h) image."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    sides = np.concatenate([boxes[:, 2:] - boxes[:, :2]] * 2, axis=1)  # (N, 4) w, h, w, h
    out = boxes + sides * np.array([-pad, -pad, pad, pad], dtype=np.float32)
    return np.clip(out, 0, np.array([*size, *size], dtype=np.float32))


def mirrored(boxes: np.ndarray, width: int) -> np.ndarray:
    """(N, 4) xyxy boxes of an image mirrored left-right."""
    return np.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], axis=1)


CUTOUT_CONTEXT = 0.15  # GrabCut sees this much around the box (as a fraction of its size) as background samples
CUTOUT_SIDE = 160  # pixels: GrabCut runs on the region shrunk to at most this side (about 20-40 ms)
CUTOUT_MIN_OBJECT = 0.15  # below this share of the box kept as object, the cut failed: the plain crop is used


def _grabcut_mask(region: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """(H, W, 3) RGB region, box in its pixels -> (H, W) float object mask in [0, 1], or None when the cut fails."""
    height, width = region.shape[:2]
    scale = min(1.0, CUTOUT_SIDE / max(height, width))
    small = cv2.resize(region, (max(2, round(width * scale)), max(2, round(height * scale))), cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    x0, y0 = int(np.clip(box[0] * scale, 1, sw - 3)), int(np.clip(box[1] * scale, 1, sh - 3))
    x1, y1 = int(np.clip(box[2] * scale, x0 + 2, sw - 1)), int(np.clip(box[3] * scale, y0 + 2, sh - 1))
    mask = np.zeros((sh, sw), np.uint8)
    models = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.setRNGSeed(0)  # GrabCut's colour models start from OpenCV's global random state: same box, same cut
        bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
        cv2.grabCut(bgr, mask, (x0, y0, x1 - x0, y1 - y0), *models, 3, cv2.GC_INIT_WITH_RECT)
    except cv2.error:
        return None
    kept = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.float32)
    if kept[y0:y1, x0:x1].mean() < CUTOUT_MIN_OBJECT:
        return None
    return cv2.resize(cv2.GaussianBlur(kept, (3, 3), 0), (width, height), interpolation=cv2.INTER_LINEAR)


def background_removed(image: Image.Image, box) -> tuple[Image.Image, np.ndarray]:
    """The region around an xyxy box with everything GrabCut calls background made white, and the box in it."""
    box = np.asarray(box, dtype=np.float32).reshape(4)
    left, top, right, bottom = (int(v) for v in pixel_boxes(box, image.size, CUTOUT_CONTEXT)[0])
    region = np.asarray(image.crop((left, top, right, bottom)).convert("RGB"))  # (H, W, 3)
    inside = box - np.array([left, top, left, top], dtype=np.float32)
    alpha = _grabcut_mask(region, inside)
    if alpha is None:
        return Image.fromarray(region), inside
    whitened = region.astype(np.float32) * alpha[..., None] + 255.0 * (1 - alpha[..., None])
    return Image.fromarray(whitened.clip(0, 255).astype(np.uint8)), inside


@dataclass
class QueryTricks:
    """An `Embedder` for queries: the wrapped crop embedder's vectors with more context, flips and scales."""

    inner: EffnetCropEmbedder | HeadEmbedder
    scales: tuple[float, ...] = (0.0,)  # extra context per side; several values are averaged
    flip: bool = False
    cutout: bool = False  # whiten the background first (GrabCut), then crop as the index did

    def __post_init__(self):
        if self.cutout and (self.flip or tuple(self.scales) != (0.0,)):
            raise ValueError("cutout is measured on its own: it does not combine with flip or scales")

    @property
    def config(self):
        return self.inner.config

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, analysis: Analysis, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) source-pixel boxes -> (N, D) float32 unit vectors, comparable with the index's."""
        base = self.inner.base if isinstance(self.inner, HeadEmbedder) else self.inner
        image, size = source_image(analysis), base.config.crop_size
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        if self.cutout and len(boxes):
            cut = [background_removed(image, box) for box in boxes]
            inputs = torch.cat([effnet_inputs(im, b.reshape(1, 4), size) for im, b in cut])  # (N, 3, S, S)
            stacked = base.encode_crops(inputs)[None]  # (1, N, 1280)
        else:
            views = [(image, grown(boxes, pad, image.size)) for pad in self.scales]
            if self.flip:
                flipped = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
                views += [(flipped, mirrored(b, image.width)) for _, b in views]
            stacked = np.stack([base.encode_crops(effnet_inputs(im, b, size)) for im, b in views])  # (V, N, 1280)
        vectors = stacked.mean(axis=0)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
        if isinstance(self.inner, HeadEmbedder):
            return self.inner.head.apply(vectors.astype(np.float32), self.inner.domain(image))
        return vectors.astype(np.float32)
