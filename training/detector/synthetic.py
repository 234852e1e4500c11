"""The detector's synthetic training set: catalogue cut-outs pasted on generated backgrounds, as a YOLO dataset.

`synthesize(SceneConfig(...))` writes OUT/images/{train,val}, OUT/labels/{train,val} (YOLO boxes), data.yaml,
scenes.jsonl (every pasted object, labelled or not, with its product) and meta.json. Products are split into
train and val by family (`training.scenes.family_split`), so the validation scenes show families never trained on.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing as mp
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from tqdm import tqdm

from engine.search.taxonomy import CLASSES
from engine.settings import shared_data_dir
from training import scenes
from training.backgrounds import make_background

SPLIT_IDS = {"train": 0, "val": 1}
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
_STATE: dict = {}


def default_catalogs() -> list[str]:
    """The two IKEA catalogues in the shared data folder."""
    return [str(shared_data_dir() / name) for name in ("ikea-catalog", "ikea-rooms")]


@dataclass
class SceneConfig:
    """What to synthesize (the command line's options, recorded in meta.json)."""

    out: str
    n_train: int = 4000
    n_val: int = 400
    imgsz: int = 640  # longer image side
    seed: int = 0
    val_fraction: float = 0.1  # of families
    catalogs: list[str] = field(default_factory=default_catalogs)
    backgrounds: str | None = None  # folder of background photos
    workers: int = min(2, os.cpu_count() or 1)


def make_scene(rng: np.random.Generator, split: str, imgsz: int) -> tuple[Image.Image, list[scenes.Placed]]:
    """Compose one scene: background, 1-6 augmented cut-outs, global finishing."""
    pool, weights = _STATE["pools"][split], _STATE["weights"][split]
    aspect = float(rng.choice([1.0, 0.75, 0.75, 0.667, 1.333]))  # height / width
    w, h = (imgsz, round(imgsz * aspect)) if aspect <= 1 else (round(imgsz / aspect), imgsz)
    canvas, floor_y = make_background(rng, h, w, _STATE["photos"])
    n = int(rng.integers(1, 7))
    cutouts = []
    for product in scenes.pick_products(rng, pool, weights, 2 * n):
        rect_ok = product.cls not in scenes.NO_RECTANGLE_CLASSES
        cut = scenes.cached_cutout(product.path, int(0.75 * imgsz), rect_ok)
        if cut is not None and len(cutouts) < n:
            cutouts.append((product, cut))
    sides = scenes.object_sides(rng, [p for p, _ in cutouts], max(w, h))
    jitter = rng.uniform(0.7, 1.3, len(sides))
    order = np.argsort(-np.array(sides) * jitter, kind="stable")
    ready = []
    for i in order:
        product, cut = cutouts[i]
        cut = scenes.augment_cutout(rng, cut, sides[i])
        if floor_y is not None and product.cls == "rug":
            squash = max(2, int(cut.height * rng.uniform(0.35, 0.7)))
            cut = cut.resize((cut.width, squash), Image.Resampling.BILINEAR)
        ready.append((product, cut))
    placed = scenes.paste_objects(rng, canvas, ready, floor_y)
    return scenes.finish_image(rng, canvas), placed


def render(job: tuple[str, int]) -> dict:
    """Render, save and label one scene; return its scenes.jsonl record."""
    split, index = job
    out, imgsz = _STATE["out"], _STATE["imgsz"]
    rng = np.random.default_rng([_STATE["seed"], SPLIT_IDS[split], index])
    img, placed = make_scene(rng, split, imgsz)
    name = f"{split}_{index:06d}"
    img.save(out / "images" / split / f"{name}.jpg", quality=int(rng.integers(55, 96)))
    w, h = img.size
    lines, objects = [], []
    for p in placed:
        x0, y0, x1, y1 = p.box
        cls_id = CLASSES.index(p.product.cls)
        if p.labelled:
            cx, cy, bw, bh = (x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h
            lines.append(f"{cls_id} {cx:.6f} {cy:.6f} {bw:.6f} {bh:.6f}")
        objects.append(
            {"catalog": p.product.catalog, "product_id": p.product.product_id,
             "image": p.product.image, "family": p.product.family,
             "category": p.product.category, "class": p.product.cls,
             "class_id": cls_id, "box": list(p.box), "visible": p.visible,
             "labelled": p.labelled}
        )  # fmt: skip
    label_path = out / "labels" / split / f"{name}.txt"
    label_path.write_text("".join(line + "\n" for line in lines))
    image = f"images/{split}/{name}.jpg"
    return {"image": image, "split": split, "width": w, "height": h, "objects": objects}


def build_state(config: SceneConfig) -> dict:
    """Load catalogues, split by family and prepare per-split sampling pools."""
    products = scenes.load_products(config.catalogs)
    pools: dict[str, list] = {"train": [], "val": []}
    for p in products:
        pools[scenes.family_split(p.family, config.seed, config.val_fraction)].append(p)
    for split, pool in pools.items():
        if not pool:
            raise SystemExit(f"no products in the {split} split; add more families")
    photos = []
    if config.backgrounds:
        root = Path(config.backgrounds)
        photos = sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
    weights = {s: scenes.class_balanced_weights(pool) for s, pool in pools.items()}
    return {
        "pools": pools,
        "weights": weights,
        "photos": photos,
        "out": Path(config.out),
        "imgsz": config.imgsz,
        "seed": config.seed,
    }


def init_worker(state: dict) -> None:
    """Install the shared state in a worker process."""
    cv2.setNumThreads(1)
    _STATE.clear()
    _STATE.update(state)


def prepare_out(out: Path) -> None:
    """Create the dataset folders, clearing previous images, labels and caches."""
    for kind in ("images", "labels"):
        for split in SPLIT_IDS:
            shutil.rmtree(out / kind / split, ignore_errors=True)
            (out / kind / split).mkdir(parents=True)
    for cache in out.glob("labels/*.cache"):
        cache.unlink()


def write_metadata(out: Path, config: SceneConfig, state: dict, records: list) -> None:
    """Write data.yaml, scenes.jsonl and a summary meta.json."""
    names = "".join(f"  {i}: {name}\n" for i, name in enumerate(CLASSES))
    (out / "data.yaml").write_text(
        f"path: {out.resolve()}\ntrain: images/train\nval: images/val\nnc: {len(CLASSES)}\nnames:\n{names}"
    )
    with open(out / "scenes.jsonl", "w") as f:
        for rec in records:
            f.write(json.dumps(rec, sort_keys=True) + "\n")
    boxes = {s: {c: 0 for c in CLASSES} for s in SPLIT_IDS}
    for rec in records:
        for obj in rec["objects"]:
            boxes[rec["split"]][obj["class"]] += obj["labelled"]
    meta = {
        "args": {k: str(v) for k, v in dataclasses.asdict(config).items()},
        "classes": CLASSES,
        "catalogs": {Path(c).name: str(Path(c).resolve()) for c in config.catalogs},
        "products": {s: len(p) for s, p in state["pools"].items()},
        "families": {s: len({p.family for p in pool}) for s, pool in state["pools"].items()},
        "boxes": boxes,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


def synthesize(config: SceneConfig, progress: bool = True) -> list[dict]:
    """Generate the dataset into `config.out`; returns the scenes.jsonl records."""
    out = Path(config.out)
    state = build_state(config)
    for split, pool in state["pools"].items():
        print(f"{split}: {len(pool)} products, {len({p.family for p in pool})} families")
    prepare_out(out)
    jobs = [("train", i) for i in range(config.n_train)]
    jobs += [("val", i) for i in range(config.n_val)]
    bar = dict(total=len(jobs), desc="scenes", unit="img", disable=not progress)
    if config.workers <= 1:
        init_worker(state)
        records = [render(job) for job in tqdm(jobs, **bar)]
    else:
        ctx = mp.get_context("fork")
        with ctx.Pool(config.workers, initializer=init_worker, initargs=(state,)) as pool:
            records = list(tqdm(pool.imap(render, jobs, chunksize=4), **bar))
    write_metadata(out, config, state, records)
    return records
