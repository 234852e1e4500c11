"""Real-photo training data for the detector: dev rooms split by photo, COCO pseudo-labels, copy-paste on rooms.

The synthetic scenes (`training/scenes.py`) teach the catalogue's classes on made-up rooms. Real room photos keep
what a COCO-pretrained model knows about real light, clutter and perspective:

* `room_split` puts every dev room photo in "train" or "heldout" by a hash of its file name, so a photo is never
  used for both training and the held-out benchmark.
* `pseudo_labels` are a COCO detector's confident boxes, mapped to the catalogue taxonomy (`engine.detection.labels`).
* `room_scene` pastes catalogue cut-outs of the classes COCO lacks (lamps, rugs, storage, textiles...) onto a
  training room, drops pseudo-labelled boxes that the cut-outs mostly hide, and finishes the photo like a scene.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from tqdm import tqdm

from engine.images import load_image
from engine.search.taxonomy import CLASSES
from engine.settings import shared_data_dir
from training import scenes

HELDOUT_FRACTION = 0.3  # share of dev room photos never trained on
PSEUDO_CONF = 0.35  # COCO boxes at or above this confidence become labels
COCO_LACKS = {"lamp", "rug", "storage", "textile", "decor", "kitchenware", "toy", "other"}
Box = tuple[float, float, float, float]


def room_split(image: str | Path, heldout_fraction: float = HELDOUT_FRACTION) -> str:
    """ "train" or "heldout" for a room photo, fixed by a hash of its file name (not its folder)."""
    digest = hashlib.sha1(Path(image).name.encode()).hexdigest()
    return "heldout" if int(digest[:8], 16) / 16**8 < heldout_fraction else "train"


def pseudo_labels(detector, images: list[Image.Image], conf: float = PSEUDO_CONF) -> list[list[tuple[str, Box]]]:
    """Per image, the detector's (label, xyxy box) pairs at or above `conf` (labels already mapped)."""
    out = []
    for analysis in detector.analyse(images):
        out.append([(d.class_name, d.box) for d in analysis.detections if d.confidence >= conf])
    return out


def fit_room(rng: np.random.Generator, room: Image.Image, labels: list, long_side: int) -> tuple[Image.Image, list]:
    """Random crop (60-100% of each side), flip and resize to `long_side`; boxes follow, clipped."""
    w, h = room.size
    fw, fh = rng.uniform(0.6, 1.0, 2) if rng.random() < 0.7 else (1.0, 1.0)
    cw, ch = int(w * fw), int(h * fh)
    x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    scale = long_side / max(cw, ch)
    size = (max(1, round(cw * scale)), max(1, round(ch * scale)))
    out = room.crop((x, y, x + cw, y + ch)).resize(size, Image.Resampling.BILINEAR)
    flip = rng.random() < 0.5
    moved = []
    for cls, (x0, y0, x1, y1) in labels:
        box = np.clip([(x0 - x) * scale, (y0 - y) * scale, (x1 - x) * scale, (y1 - y) * scale], 0, [*size, *size])
        if flip:
            box = [size[0] - box[2], box[1], size[0] - box[0], box[3]]
        moved.append((cls, tuple(float(v) for v in box), _area((x0, y0, x1, y1)) * scale * scale))
    if flip:
        out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return out, moved


def room_scene(
    rng: np.random.Generator,
    room: Image.Image,
    labels: list[tuple[str, Box]],
    cutouts: list[tuple[scenes.Product, Image.Image]],
    long_side: int = 640,
) -> tuple[Image.Image, list[tuple[str, Box]]]:
    """A training image from a real room: cut-outs pasted on it, its pseudo-labels kept where still visible."""
    canvas, moved = fit_room(rng, room.convert("RGB"), labels, long_side)
    before = np.asarray(canvas).copy()
    sides = scenes.object_sides(rng, [p for p, _ in cutouts], max(canvas.size))
    ready = [(p, scenes.augment_cutout(rng, cut, side)) for (p, cut), side in zip(cutouts, sides)]
    floor_y = int(canvas.height * rng.uniform(0.45, 0.7))
    placed = scenes.paste_objects(rng, canvas, ready, floor_y)
    covered = np.any(np.asarray(canvas) != before, axis=2)  # (H, W) pixels the cut-outs (or shadows) changed
    kept = [(cls, box) for cls, box, full in moved if _still_visible(box, full, covered)]
    kept += [(p.product.cls, tuple(map(float, p.box))) for p in placed if p.labelled]
    return scenes.finish_image(rng, canvas), kept


def _still_visible(box: Box, full_area: float, covered: np.ndarray) -> bool:
    """Whether enough of a pseudo-labelled object stays in the crop and out from under the cut-outs."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    if min(x1 - x0, y1 - y0) < scenes.MIN_BOX_PX:
        return False
    inside = (x1 - x0) * (y1 - y0)
    hidden = int(covered[y0:y1, x0:x1].sum())
    return (inside - hidden) / max(full_area, 1.0) >= scenes.MIN_VISIBLE


def _area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def yolo_lines(labels: list[tuple[str, Box]], size: tuple[int, int], classes: list[str]) -> list[str]:
    """YOLO label lines (class cx cy w h, normalised) for the labels whose class is in `classes`."""
    w, h = size
    lines = []
    for cls, (x0, y0, x1, y1) in labels:
        if cls in classes and x1 > x0 and y1 > y0:
            cx, cy, bw, bh = (x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h
            lines.append(f"{classes.index(cls)} {cx:.6f} {cy:.6f} {bw:.6f} {bh:.6f}")
    return lines


def cutout_pool(seed: int) -> tuple[list[scenes.Product], np.ndarray]:
    """Training-family catalogue products of the classes COCO lacks, with class-balanced sampling weights."""
    catalogs = [shared_data_dir() / name for name in ("ikea-catalog", "ikea-rooms")]
    products = [p for p in scenes.load_products([c for c in catalogs if c.is_dir()]) if p.cls in COCO_LACKS]
    pool = [p for p in products if scenes.family_split(p.family, seed, 0.1) == "train"]
    return pool, scenes.class_balanced_weights(pool)


def pick_cutouts(rng: np.random.Generator, pool, weights, long_side: int) -> list:
    """0-3 loadable cut-outs for one room image."""
    picked = []
    for product in scenes.pick_products(rng, pool, weights, 6):
        cut = scenes.load_cutout(product.path, int(0.6 * long_side), product.cls not in scenes.NO_RECTANGLE_CLASSES)
        if cut is not None:
            picked.append((product, cut))
    return picked[: int(rng.integers(0, 4))]


def write_data_yaml(out: Path, scenes_dir: Path) -> None:
    """data.yaml: train on the synthetic scenes and the rooms, validate on the synthetic validation scenes."""
    names = "".join(f"  {i}: {name}\n" for i, name in enumerate(CLASSES))
    train = [str((scenes_dir / "images" / "train").resolve()), str((out / "images" / "train").resolve())]
    (out / "data.yaml").write_text(
        f"path: {out.resolve()}\ntrain: {json.dumps(train)}\nval: {(scenes_dir / 'images' / 'val').resolve()}\n"
        f"nc: {len(CLASSES)}\nnames:\n{names}"
    )


def make_room_data(
    detector,
    rooms_dir: Path,
    scenes_dir: Path,
    out: Path,
    variants: int = 8,
    imgsz: int = 640,
    heldout_fraction: float = HELDOUT_FRACTION,
    seed: int = 0,
    limit: int | None = None,
) -> dict:
    """Pseudo-label the training rooms with `detector` (COCO weights), write `variants` images of each, split.json
    and data.yaml; returns counts."""
    rooms = pd.read_csv(rooms_dir / "rooms.csv", dtype=str, keep_default_na=False)
    split = {row: room_split(row, heldout_fraction) for row in rooms["image"]}
    train = [image for image, part in split.items() if part == "train"][:limit]
    for kind in ("images", "labels"):
        (out / kind / "train").mkdir(parents=True, exist_ok=True)
    pool, weights = cutout_pool(seed)
    rng = np.random.default_rng(seed)
    boxes = 0
    for n, image in enumerate(tqdm(train, desc="rooms", unit="room")):
        photo = load_image(rooms_dir / image)
        labels = pseudo_labels(detector, [photo])[0]
        for v in range(variants):
            scene, kept = room_scene(rng, photo, labels, pick_cutouts(rng, pool, weights, imgsz), imgsz)
            name = f"room_{n:04d}_{v:02d}"
            scene.save(out / "images" / "train" / f"{name}.jpg", quality=int(rng.integers(70, 96)))
            lines = yolo_lines(kept, scene.size, CLASSES)
            (out / "labels" / "train" / f"{name}.txt").write_text("".join(line + "\n" for line in lines))
            boxes += len(lines)
    heldout = sorted(image for image, part in split.items() if part == "heldout")
    (out / "split.json").write_text(json.dumps({"train": train, "heldout": heldout}, indent=1) + "\n")
    write_data_yaml(out, scenes_dir)
    return {"train": len(train), "heldout": len(heldout), "images": len(train) * variants, "boxes": boxes}
