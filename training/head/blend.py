"""A blended head: a trained head's output beside its centred base vector (`engine.embedding.domains.Blend`).

Each side's mean is measured on crops of that kind, at the crop side the blended head is for:

- **catalogue**: every product photo of the given catalogue folders, by its box on white (`product_shot_box`, else
  the whole photo), as the catalogue builder indexes it;
- **room**: the detector's proposals (query settings: confidence 0.01, at most 25) in the room photos of the
  training split (`room_split`), never the held-out ones the benchmark scores.

The head's weights are kept as trained; the checkpoint gains the centres and the base share (format 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from engine.detection.detector import Detector
from engine.embedding import EmbeddingConfig, make_embedder
from engine.embedding.domains import CATALOGUE, ROOM, Blend
from engine.embedding.head import Head, save_head
from engine.images import load_image
from training.crop_inputs import detect_rooms, product_box

BATCH = 16  # photos per crop-network call


@dataclass(frozen=True)
class BlendRecipe:
    """How the centres are measured and mixed."""

    crop_size: int = 288  # the crop side the blended head embeds at (the base's)
    base_share: float = 0.5  # the base vector's share of the cosine


def side_means(
    base, head: Head, items: list[tuple[Path, list | None]], desc: str
) -> tuple[np.ndarray, np.ndarray, int]:
    """(photo, boxes) pairs (None: the photo's product box) -> the mean unit base vector (D,), the mean head
    vector (out_dim,) and the crop count."""
    base_total, head_total, count = 0.0, 0.0, 0
    for start in tqdm(range(0, len(items), BATCH), desc=desc, unit="batch"):
        images, boxes = [], []
        for path, photo_boxes in items[start : start + BATCH]:
            image = load_image(path)
            photo_boxes = [product_box(image)] if photo_boxes is None else photo_boxes
            images += [image] * len(photo_boxes)
            boxes += [np.asarray(b, np.float32) for b in photo_boxes]
        if images:
            vectors = base.embed_crops(images, boxes)  # (n, D) unit rows
            base_total = base_total + vectors.sum(0)
            head_total = head_total + head.apply(vectors).sum(0)  # (n, out_dim) unit rows, summed
            count += len(vectors)
    if not count:
        raise ValueError(f"No crops to measure the {desc} on.")
    return (base_total / count).astype(np.float32), (head_total / count).astype(np.float32), count


def catalogue_items(folders: list[Path]) -> list[tuple[Path, None]]:
    """Every product photo of the catalogue folders (their products.csv), to be cropped to its product box."""
    items = []
    for folder in folders:
        frame = pd.read_csv(folder / "products.csv", dtype=str, keep_default_na=False)
        items += [(folder / image, None) for image in frame["image"]]
    return items


def room_items(detector: Detector, rooms: Path) -> list[tuple[Path, list]]:
    """The training-split room photos (rooms.csv) with the detector's proposals."""
    return [(rooms / room["image"], room["boxes"]) for room in detect_rooms(detector, rooms, part="train")]


def blend_head(head: Head, out: Path, catalogues: list[Path], rooms: Path, detector, recipe=BlendRecipe()) -> str:
    """Measure both sides' centres with `head`'s base network and write the blended head to `out`; its sha256."""
    if head.blend is not None:
        raise ValueError(f"'{head.path}' is already blended; start from the head it was made from.")
    config = EmbeddingConfig(name=head.base["name"], network=head.base["network"], crop_size=recipe.crop_size)
    base = make_embedder(config)
    sides = {CATALOGUE: catalogue_items(catalogues), ROOM: room_items(detector, rooms)}
    measured = {side: side_means(base, head, items, f"{side} side") for side, items in sides.items()}
    blend = Blend(recipe.base_share, {s: m[0] for s, m in measured.items()}, {s: m[1] for s, m in measured.items()})
    counts = {side: m[2] for side, m in measured.items()}
    trained = {**head.trained, "blend": {"from": head.path.name, "base_share": recipe.base_share, "crops": counts}}
    return save_head(head.module, out, {**head.base, "crop_size": recipe.crop_size}, trained, head.tail, blend)
