"""Detector class names -> the furniture labels a shopper sees; which classes a query detector keeps.

The project's own detectors are trained on the catalogue taxonomy (`engine/search/taxonomy.py`: sofa, chair, table,
...), so their names pass through. A COCO checkpoint (e.g. `../shared/models/yolov8n-coco.pt`) knows 80 classes,
most of them no product (person, car, dog): only the classes below are kept, before non-maximum suppression, so
the detection budget is not spent on people and the labels speak the catalogue's words.
"""

from __future__ import annotations

COCO_TO_FURNITURE: dict[str, str] = {
    "couch": "sofa",
    "chair": "chair",
    "bench": "chair",
    "bed": "bed",
    "dining table": "table",
    "potted plant": "decor",
    "vase": "decor",
    "clock": "decor",
    "tv": "decor",  # no TVs in the catalogue; the nearest products are frames and mirrors
    "bowl": "kitchenware",
    "cup": "kitchenware",
    "wine glass": "kitchenware",
    "bottle": "kitchenware",
    "toilet": "fixture",
    "sink": "fixture",
    "oven": "fixture",
    "microwave": "fixture",
    "refrigerator": "fixture",
    "teddy bear": "toy",
}
COCO_MARKERS = ("person", "couch", "dining table")  # a model naming all of these is a COCO model


def is_coco(names: dict[int, str]) -> bool:
    """True when a detector's class names are COCO's."""
    values = set(names.values())
    return all(marker in values for marker in COCO_MARKERS)


def display_labels(names: dict[int, str]) -> dict[int, str]:
    """Model class id -> the label shown and recorded; a COCO model keeps only its furniture classes."""
    if not is_coco(names):
        return dict(names)
    return {i: COCO_TO_FURNITURE[name] for i, name in names.items() if name in COCO_TO_FURNITURE}
