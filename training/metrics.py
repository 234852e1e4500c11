"""Retrieval and detection metrics as plain functions (used by scripts/benchmark.py).

Conventions:
- Boxes are (x0, y0, x1, y1) in pixels; a degenerate or empty box has IoU 0 with everything.
- A ranked list is best first; `None` stands for "no result" (e.g. no detection for a query) and scores 0.
- `precision_at_k` divides by k, so missing results (a short list) count as misses.
- Per-query values may be NaN when a query cannot be scored (its own label is unknown); `mean` skips them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from engine.geometry import box_iou as iou
from engine.search.taxonomy import coarse_class

LARGE_CLASSES = {"sofa", "chair", "table", "bed", "lamp", "rug"}
# The coarse "storage" class also holds boxes, baskets, doors and drawer fronts: only furniture counts as large.
LARGE_STORAGE = re.compile(
    r"wardrobe|chest|cabinet|cab\b|shelving|shelf unit|bookcase|sideboard|dresser|tv bench|bureau|drawer unit"
    r"|storage (?:combination|unit|module|bench|table)|bench with shoe storage|wash-?stand|wsh-stnd"
    r"|changing table|bedside table|hat and coat stand|clothes rack|open storage|\d sections?|side unit"
    r"|add-on unit|corner unit|end unit",
    re.I,
)
# Lighting accessories too small to count as a lamp "item" in a room photo.
SMALL_LIGHTING = re.compile(r"strip|chain|cabinet|worktop lighting|night light|lighting box|multi-use", re.I)


def iou_many(boxes: np.ndarray, box: Sequence[float]) -> np.ndarray:
    """(N,) IoU of each of (N, 4) boxes with one box."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.array([iou(b, box) for b in boxes], dtype=np.float64)


def best_iou_detection(boxes: np.ndarray, target: Sequence[float]) -> tuple[int | None, float]:
    """Index of the box with the highest IoU with `target` (first on ties) and that IoU; (None, 0.0) if none."""
    ious = iou_many(boxes, target)
    if len(ious) == 0:
        return None, 0.0
    best = int(np.argmax(ious))  # argmax returns the first maximum: ties go to the earlier (more confident) box
    return best, float(ious[best])


def best_per_group(scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """(Q, E) entry scores and (E,) group codes covering 0..G-1 -> (Q, G): each group's best entry, per query.

    "A product scores its best entry", as `engine.search.products` ranks them.
    """
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    return np.maximum.reduceat(scores[:, order], starts, axis=1)


def recall_at_k(ranked: Sequence | None, relevant, k: int) -> float:
    """1.0 when `relevant` (one item, or a set of acceptable items) is among the first k of `ranked`, else 0.0."""
    if ranked is None or _missing(relevant):
        return 0.0
    wanted = relevant if isinstance(relevant, (set, frozenset)) else {relevant}
    return 1.0 if any(item in wanted for item in list(ranked)[:k]) else 0.0


def precision_at_k(labels: Sequence | None, target, k: int) -> float:
    """Share of the first k results whose label equals `target`; missing results and labels count as misses.

    NaN when the query's own label is missing (it cannot be scored); 0.0 when there are no results.
    """
    if _missing(target):
        return math.nan
    if labels is None:
        return 0.0
    hits = sum(1 for label in list(labels)[:k] if not _missing(label) and label == target)
    return hits / k


def mean(values: Iterable[float]) -> float | None:
    """Mean ignoring NaN and None; None when nothing is left."""
    kept = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return round(float(np.mean(kept)), 4) if kept else None


def _missing(value) -> bool:
    """None, NaN or an empty string."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str) and not value)


def normalise_family(value) -> str:
    """Family key as the scene synthesizer splits it: stripped, upper case ('' when missing)."""
    return "" if _missing(value) else str(value).strip().upper()


def is_large_item(category: str) -> bool:
    """Furniture and lamps (sofas, chairs, tables, beds, wardrobes, chests, shelving, lamps, rugs) by category."""
    if _missing(category):
        return False
    cls = coarse_class(str(category))
    if cls == "storage":
        return bool(LARGE_STORAGE.search(str(category)))
    if cls == "lamp":
        return not SMALL_LIGHTING.search(str(category))
    return cls in LARGE_CLASSES


def sliding_windows(width: int, height: int, n: int) -> np.ndarray:
    """(n, 4) deterministic windows, coarse to fine: the whole image, a 2x2 grid, 3x3, 4x4, ... (30 = up to 4x4).

    A g x g level uses windows of 1.5/g of each side (overlapping neighbours), evenly spaced edge to edge.
    """
    boxes: list[tuple[float, float, float, float]] = []
    grid = 1
    while len(boxes) < n:
        frac = min(1.0, 1.5 / grid)
        bw, bh = frac * width, frac * height
        starts_x = np.linspace(0, width - bw, grid) if grid > 1 else [0.0]
        starts_y = np.linspace(0, height - bh, grid) if grid > 1 else [0.0]
        boxes += [(float(x), float(y), float(x + bw), float(y + bh)) for y in starts_y for x in starts_x]
        grid += 1
    return np.array(boxes[:n], dtype=np.float32).reshape(-1, 4)


def found_products(ranked_lists: Iterable[Sequence], k: int) -> set:
    """Union of the top-k items over several ranked lists (one per detection of a room)."""
    found: set = set()
    for ranked in ranked_lists:
        found.update(list(ranked)[:k])
    return found


def ranked_metrics(records: list[dict], mode: str, products: pd.DataFrame, k: int = 10) -> dict:
    """Mean Recall@1/@k and family/category/class precision@k over query records.

    Each record has `product_id` and, under `mode`, the ranked product ids (None: no result); `products` is
    indexed by product_id with columns family, category and cls.
    """

    def labels(ranked, column):
        return None if ranked is None else [products.at[p, column] for p in ranked]

    metrics = {
        "recall@1": mean(recall_at_k(r[mode], r["product_id"], 1) for r in records),
        f"recall@{k}": mean(recall_at_k(r[mode], r["product_id"], k) for r in records),
    }
    for column, key in (("family", "family_p"), ("category", "category_p"), ("cls", "class_p")):
        own = [products.at[r["product_id"], column] for r in records]
        metrics[f"{key}@{k}"] = mean(precision_at_k(labels(r[mode], column), o, k) for r, o in zip(records, own))
    return metrics


def room_recall(found: list[Iterable], truth: list[list], keep: Callable[[object], bool]) -> dict:
    """Share of the listed products passing `keep` that were found in their room, pooled over all rooms."""
    listed = [[p for p in gt if keep(p)] for gt in truth]
    hits = sum(len(set(gt) & set(f)) for f, gt in zip(found, listed))
    total = sum(len(gt) for gt in listed)
    return {"n_products": total, "recall@10": round(hits / total, 4) if total else None}


def shown_precision(shown_top1: list[list], truth: list[list]) -> float | None:
    """Share of the drawn boxes, pooled over rooms, whose top match is a product that room lists."""
    hits = sum(sum(1 for p in tops if p is not None and p in set(gt)) for tops, gt in zip(shown_top1, truth))
    total = sum(len(tops) for tops in shown_top1)
    return round(hits / total, 4) if total else None
