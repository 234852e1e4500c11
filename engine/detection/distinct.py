"""Which detections a shopper sees: the few distinct objects, not every overlapping candidate.

Query photos are detected generously (low confidence, up to 25 boxes) so that recall is high; drawing all of
them makes a picture nobody can read. `distinct_detections` merges boxes class-agnostically, most confident
first, and returns the ones to draw plus the rest, which the app offers on demand ("show more").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SHOWN = 10  # boxes drawn by default
MERGE_IOU = 0.45  # a box overlapping a more confident one this much is the same object
CONTAINED = 0.8  # ... or when this share of it lies inside that one, with the same label
MIN_SHOWN_CONF = 0.15  # below this, a box is a candidate only ("show more"), however few were found


def _overlaps(box: np.ndarray, others: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(IoU, share of `box` inside each other) of one xyxy box against (N, 4) boxes."""
    ix = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0, None)
    inter = ix * iy
    area = max(float((box[2] - box[0]) * (box[3] - box[1])), 1e-9)
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9), inter / area


def distinct_detections(detections: Sequence, limit: int = SHOWN) -> tuple[list[int], list[int]]:
    """(indices to draw, indices of the other candidates), each most confident first.

    A detection is drawn when its confidence is at least `MIN_SHOWN_CONF`, it does not overlap a drawn one by
    `MERGE_IOU` or more (any label), it does not lie `CONTAINED` inside a drawn one of the same label, and fewer
    than `limit` are drawn. Everything else stays selectable as a candidate.
    """
    order = sorted(range(len(detections)), key=lambda i: -detections[i].confidence)
    boxes = np.array([detections[i].box for i in range(len(detections))], dtype=np.float64).reshape(-1, 4)
    shown: list[int] = []
    for i in order:
        if len(shown) >= limit or detections[i].confidence < MIN_SHOWN_CONF:
            continue
        if shown:
            iou, inside = _overlaps(boxes[i], boxes[shown])
            same = np.array([detections[j].class_name == detections[i].class_name for j in shown])
            if (iou >= MERGE_IOU).any() or (same & (inside >= CONTAINED)).any():
                continue
        shown.append(i)
    rest = [i for i in order if i not in shown]
    return shown, rest
