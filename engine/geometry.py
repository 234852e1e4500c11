"""Box geometry: the letterbox mapping between image pixels, network input and feature-map cells; overlaps; clicks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torchvision.ops import box_iou as torchvision_box_iou

PAD_VALUE = 114  # Ultralytics' letterbox grey


@dataclass(frozen=True)
class Letterbox:
    """How an image of `source_size` (w, h) was resized to `resized_size` and padded into `input_size`."""

    source_size: tuple[int, int]  # (w, h) original pixels
    resized_size: tuple[int, int]  # (w, h) after the aspect-preserving resize
    input_size: tuple[int, int]  # (w, h) network input, a multiple of the stride
    pad: tuple[int, int]  # (left, top) padding in input pixels

    @property
    def scale(self) -> np.ndarray:
        """Per-axis scale (sx, sy, sx, sy) from source to input pixels."""
        sx = self.resized_size[0] / self.source_size[0]
        sy = self.resized_size[1] / self.source_size[1]
        return np.array([sx, sy, sx, sy], dtype=np.float32)

    def to_input(self, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) xyxy boxes in source pixels -> network-input pixels."""
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        offset = np.array([*self.pad, *self.pad], dtype=np.float32)
        return boxes * self.scale + offset

    def to_source(self, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) xyxy boxes in network-input pixels -> source pixels, clipped to the image."""
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        offset = np.array([*self.pad, *self.pad], dtype=np.float32)
        out = (boxes - offset) / self.scale
        width, height = self.source_size
        out[:, [0, 2]] = out[:, [0, 2]].clip(0, width)
        out[:, [1, 3]] = out[:, [1, 3]].clip(0, height)
        return out

    def to_cells(self, boxes: np.ndarray, stride: float) -> np.ndarray:
        """(N, 4) source-pixel boxes -> continuous coordinates on a feature map of the given stride."""
        return self.to_input(boxes) / stride


def plan_letterbox(source_size: tuple[int, int], imgsz: int, stride: int = 32, square: bool = False) -> Letterbox:
    """Fit the long side to `imgsz`; pad to a multiple of `stride` (minimal rectangle) or to a square."""
    width, height = source_size
    scale = imgsz / max(width, height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    if square:
        in_w = in_h = math.ceil(imgsz / stride) * stride
    else:
        in_w, in_h = math.ceil(new_w / stride) * stride, math.ceil(new_h / stride) * stride
    pad = ((in_w - new_w) // 2, (in_h - new_h) // 2)
    return Letterbox(source_size, (new_w, new_h), (in_w, in_h), pad)


def apply_letterbox(image: Image.Image, box: Letterbox, resample: str = "bilinear") -> np.ndarray:
    """Resize (by the named PIL filter) and pad an RGB image as planned; returns an (H, W, 3) uint8 array."""
    new_w, new_h = box.resized_size
    resized = image.resize((new_w, new_h), Image.Resampling[resample.upper()])
    canvas = np.full((box.input_size[1], box.input_size[0], 3), PAD_VALUE, dtype=np.uint8)
    left, top = box.pad
    canvas[top : top + new_h, left : left + new_w] = np.asarray(resized)
    return canvas


def boxes_at(boxes, x: float, y: float) -> list[int]:
    """Indices of the boxes containing the point (x, y), smallest area first."""
    inside = [i for i, (x0, y0, x1, y1) in enumerate(boxes) if x0 <= x <= x1 and y0 <= y <= y1]
    return sorted(inside, key=lambda i: (boxes[i][2] - boxes[i][0]) * (boxes[i][3] - boxes[i][1]))


def smallest_box_at(boxes, x: float, y: float) -> int | None:
    """Index of the smallest-area box containing the point (x, y), or None; what a first click picks."""
    under = boxes_at(boxes, x, y)
    return under[0] if under else None


def box_at_click(boxes, x: float, y: float, current: int | None) -> int | None:
    """The box a click picks: the smallest under the pointer; clicking again where `current` is cycles outwards.

    So every box is reachable, even one covered by smaller boxes (a shelf unit behind a plant).
    """
    under = boxes_at(boxes, x, y)
    if not under:
        return None
    if current in under:
        return under[(under.index(current) + 1) % len(under)]
    return under[0]


def box_ious(a, b) -> np.ndarray:
    """(N, 4) x (M, 4) xyxy boxes -> (N, M) float64 intersection over union (torchvision; 0 for empty boxes)."""
    a = torch.as_tensor(np.asarray(a, dtype=np.float64).reshape(-1, 4))
    b = torch.as_tensor(np.asarray(b, dtype=np.float64).reshape(-1, 4))
    return torch.nan_to_num(torchvision_box_iou(a, b), nan=0.0).numpy()


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two xyxy boxes (0 when either is empty)."""
    return float(box_ious(a, b)[0, 0])
