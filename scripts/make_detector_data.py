"""Detector training set from real rooms: COCO pseudo-labels plus catalogue cut-outs pasted on the training rooms.

    python scripts/make_detector_data.py --rooms ../shared/data/ikea-rooms --scenes DATA/scenes \
        --coco ../shared/models/yolov8n-coco.pt --out DATA/detector --variants 8

Only the rooms that `training.detector.rooms.room_split` puts in "train" are read; the held-out ones are listed in
OUT/split.json for the benchmark. OUT/data.yaml trains on the synthetic scenes (--scenes, from
scripts/synthesize_scenes.py) plus the room images, and validates on the synthetic validation scenes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from catalog.taxonomy import CLASSES  # noqa: E402
from training import scenes  # noqa: E402
from training.detector import rooms as dd  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rooms", type=Path, required=True, help="folder with rooms.csv")
    ap.add_argument("--scenes", type=Path, required=True, help="synthetic scenes folder (its data.yaml)")
    ap.add_argument("--coco", required=True, help="COCO checkpoint for the pseudo-labels")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--variants", type=int, default=8, help="training images made from each training room")
    ap.add_argument("--imgsz", type=int, default=640, help="longer side of the written images")
    ap.add_argument("--heldout-fraction", type=float, default=dd.HELDOUT_FRACTION)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=None, help="first N training rooms only (tests)")
    return ap.parse_args(argv)


def cutout_pool(seed: int) -> tuple[list[scenes.Product], np.ndarray]:
    """Training-family catalogue products of the classes COCO lacks, with class-balanced sampling weights."""
    catalogs = [REPO_ROOT.parent / "shared" / "data" / name for name in ("ikea-catalog", "ikea-rooms")]
    products = [p for p in scenes.load_products([c for c in catalogs if c.is_dir()]) if p.cls in dd.COCO_LACKS]
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


def write_dataset(out: Path, scenes_dir: Path) -> None:
    """data.yaml: train on the synthetic scenes and the rooms, validate on the synthetic validation scenes."""
    names = "".join(f"  {i}: {name}\n" for i, name in enumerate(CLASSES))
    train = [str((scenes_dir / "images" / "train").resolve()), str((out / "images" / "train").resolve())]
    (out / "data.yaml").write_text(
        f"path: {out.resolve()}\ntrain: {json.dumps(train)}\nval: {(scenes_dir / 'images' / 'val').resolve()}\n"
        f"nc: {len(CLASSES)}\nnames:\n{names}"
    )


def main(argv: list[str] | None = None) -> None:
    """Pseudo-label the training rooms, write the room variants and the data.yaml."""
    import engine

    args = parse_args(argv)
    rooms = pd.read_csv(args.rooms / "rooms.csv", dtype=str, keep_default_na=False)
    split = {row: dd.room_split(row, args.heldout_fraction) for row in rooms["image"]}
    train = [image for image, part in split.items() if part == "train"][: args.limit]
    for kind in ("images", "labels"):
        (args.out / kind / "train").mkdir(parents=True, exist_ok=True)
    detector = engine.Detector(args.coco)
    pool, weights = cutout_pool(args.seed)
    rng = np.random.default_rng(args.seed)
    boxes = 0
    for n, image in enumerate(tqdm(train, desc="rooms", unit="room")):
        photo = engine.load_image(args.rooms / image)
        labels = dd.pseudo_labels(detector, [photo])[0]
        for v in range(args.variants):
            cutouts = pick_cutouts(rng, pool, weights, args.imgsz)
            scene, kept = dd.room_scene(rng, photo, labels, cutouts, args.imgsz)
            name = f"room_{n:04d}_{v:02d}"
            scene.save(args.out / "images" / "train" / f"{name}.jpg", quality=int(rng.integers(70, 96)))
            lines = dd.yolo_lines(kept, scene.size, CLASSES)
            (args.out / "labels" / "train" / f"{name}.txt").write_text("".join(line + "\n" for line in lines))
            boxes += len(lines)
    heldout = sorted(image for image, part in split.items() if part == "heldout")
    (args.out / "split.json").write_text(json.dumps({"train": train, "heldout": heldout}, indent=1) + "\n")
    write_dataset(args.out, args.scenes)
    print(f"{len(train)} training rooms x {args.variants} -> {len(train) * args.variants} images, {boxes} boxes")
    print(f"held out: {len(split) - len(train)} rooms; data.yaml -> {args.out / 'data.yaml'}")


if __name__ == "__main__":
    main()
