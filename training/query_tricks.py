"""Query-side tricks for crop embeddings, measured without rebuilding the index: more context, flips, two scales.

`QueryTricks` wraps the service's `effnet-crop` embedder (with its head, if any) for queries only; catalogue
vectors stay as they were built. Each trick changes only how the query box is cropped and pooled:

- `pad`: extra context on every side, as a fraction of the box (the crop embedder's own margin comes on top);
- `flip`: the mirrored crop is embedded too and the two base vectors averaged (test-time augmentation);
- `scales`: several `pad` values embedded and averaged (multi-scale test-time augmentation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from engine.detection.detector import Analysis
from engine.embedding.crop import EffnetCropEmbedder, effnet_inputs, source_image
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


@dataclass
class QueryTricks:
    """An `Embedder` for queries: the wrapped crop embedder's vectors with more context, flips and scales."""

    inner: EffnetCropEmbedder | HeadEmbedder
    scales: tuple[float, ...] = (0.0,)  # extra context per side; several values are averaged
    flip: bool = False

    @property
    def config(self):
        return self.inner.config

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, analysis: Analysis, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) source-pixel boxes -> (N, D) float32 unit vectors, comparable with the index's."""
        base = self.inner.base if isinstance(self.inner, HeadEmbedder) else self.inner
        image = source_image(analysis)
        views = [(image, grown(boxes, pad, image.size)) for pad in self.scales]
        if self.flip:
            flipped = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            views += [(flipped, mirrored(b, image.width)) for _, b in views]
        size = base.config.crop_size
        stacked = np.stack([base.encode_crops(effnet_inputs(im, b, size)) for im, b in views])  # (V, N, 1280)
        vectors = stacked.mean(axis=0)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
        if isinstance(self.inner, HeadEmbedder):
            return self.inner.head.apply(vectors.astype(np.float32))
        return vectors.astype(np.float32)
