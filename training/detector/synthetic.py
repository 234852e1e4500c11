"""Synthesize a YOLO detection dataset by pasting catalogue cut-outs on backgrounds.

Example:
    python scripts/synthesize_scenes.py --out /work/lookalike-data/scenes \
        --n-train 4000 --n-val 400 --imgsz 640 --seed 0
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import sys
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from tqdm import tqdm

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from catalog.taxonomy import CLASSES  # noqa: E402
from training import scenes  # noqa: E402

DEFAULT_CATALOGS = [
    REPO_ROOT.parent / "shared" / "data" / "ikea-catalog",
    REPO_ROOT.parent / "shared" / "data" / "ikea-rooms",
]
SPLIT_IDS = {"train": 0, "val": 1}
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
WALLS = np.array(
    [[238, 236, 230], [224, 219, 208], [243, 243, 241], [205, 200, 190],
     [212, 222, 228], [232, 218, 198], [188, 200, 186], [122, 132, 142],
     [62, 72, 84], [230, 204, 190], [170, 160, 150]], np.float32,
)  # fmt: skip
FLOORS = np.array(
    [[160, 118, 78], [192, 152, 106], [118, 84, 56], [212, 186, 150],
     [150, 150, 148], [88, 70, 56], [200, 200, 194], [60, 60, 62]], np.float32,
)  # fmt: skip
_STATE: dict = {}


def pick_colour(rng: np.random.Generator, palette: np.ndarray) -> np.ndarray:
    """A palette colour with jitter, or occasionally any colour."""
    if rng.random() < 0.15:
        return rng.uniform(20, 250, size=3).astype(np.float32)
    return palette[rng.integers(len(palette))] + rng.normal(0, 10, 3).astype(np.float32)


def smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Low-frequency noise in about [-1, 1] from an upsampled random grid."""
    grid = rng.standard_normal((cells, cells)).astype(np.float32)
    up = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    return up / max(float(np.abs(up).max()), 1e-6)


def texture(rng: np.random.Generator, h: int, w: int, colour: np.ndarray, kind: str) -> np.ndarray:
    """Float HxWx3 texture: flat, noise, gradient, wood planks or tiles."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    shade = 1 + 0.05 * smooth_noise(rng, h, w, int(rng.integers(2, 5)))
    if kind == "noise":
        shade += 0.15 * smooth_noise(rng, h, w, int(rng.integers(6, 40)))
    elif kind == "gradient":
        shade += rng.uniform(-0.3, 0.3) * (yy / h - 0.5) + rng.uniform(-0.2, 0.2) * (xx / w - 0.5)
    elif kind == "wood":
        pw = float(rng.uniform(w / 14, w / 4))
        plank = (xx // pw).astype(int)
        tones = rng.normal(0, 0.07, plank.max() + 1)
        grain = np.sin(xx / pw * rng.uniform(8, 20) + 4 * smooth_noise(rng, h, w, 8))
        shade += tones[plank] + 0.04 * grain - 0.25 * ((xx % pw) < 2)
    elif kind == "tiles":
        ts = float(rng.uniform(min(h, w) / 12, min(h, w) / 3))
        checker = ((xx // ts + yy // ts) % 2) * rng.uniform(-0.15, 0.15)
        grout = ((xx % ts) < 2) | ((yy % ts) < 2)
        shade += checker + np.where(grout, rng.uniform(-0.3, 0.2), 0)
    tex = colour[None, None, :] * shade[..., None]
    return tex + rng.normal(0, 2, size=tex.shape).astype(np.float32)


def random_warp(rng: np.random.Generator, arr: np.ndarray, amount: float) -> np.ndarray:
    """Random perspective distortion of an image, reflecting at the borders."""
    h, w = arr.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + rng.uniform(-amount, amount, (4, 2)).astype(np.float32) * [w, h]
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    return cv2.warpPerspective(arr, m, (w, h), borderMode=cv2.BORDER_REFLECT)


def floor_plane(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Floor texture warped into perspective (converging towards the horizon)."""
    kind = rng.choice(["wood", "wood", "tiles", "noise", "flat"])
    tex = texture(rng, h, w, pick_colour(rng, FLOORS), str(kind))
    c, c2 = rng.uniform(0.1, 0.4) * w, rng.uniform(0.0, 0.3) * w
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[c, 0], [w - c, 0], [w + c2, h], [-c2, h]])
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(tex, m, (w, h), borderMode=cv2.BORDER_REFLECT)


def add_openings(rng: np.random.Generator, wall: np.ndarray) -> None:
    """Draw unlabelled windows or doors (distractors) on a wall, in place."""
    h, w = wall.shape[:2]
    for _ in range(int(rng.integers(0, 3))):
        ow, oh = int(rng.uniform(0.1, 0.35) * w), int(rng.uniform(0.3, 0.9) * h)
        x, y = int(rng.uniform(0, w - ow)), int(rng.uniform(0, max(1, h - oh)))
        frame = int(rng.integers(3, 10))
        wall[y : y + oh, x : x + ow] = pick_colour(rng, WALLS) * 0.9
        fill = rng.uniform(180, 255, 3) if rng.random() < 0.6 else pick_colour(rng, WALLS)
        wall[y + frame : y + oh - frame, x + frame : x + ow - frame] = fill


def room_background(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, int]:
    """Wall over floor split by a horizon; returns the image and the horizon row."""
    horizon = int(h * rng.uniform(0.3, 0.75))
    kind = rng.choice(["flat", "flat", "noise", "gradient", "tiles", "wood"])
    wall = texture(rng, h, w, pick_colour(rng, WALLS), str(kind))
    if rng.random() < 0.5:
        add_openings(rng, wall[:horizon])
    arr = wall.copy()
    arr[horizon:] = floor_plane(rng, h - horizon, w)
    if rng.random() < 0.6:
        band = max(2, int(rng.uniform(0.01, 0.03) * h))
        arr[max(0, horizon - band) : horizon] = pick_colour(rng, WALLS)
    return arr, horizon


def photo_background(rng: np.random.Generator, h: int, w: int, path: str) -> np.ndarray:
    """Random, flipped, perspective-distorted crop of a background photo."""
    with Image.open(path) as im:
        arr = np.asarray(im.convert("RGB"), dtype=np.float32)
    ph, pw = arr.shape[:2]
    frac = rng.uniform(0.4, 1.0)
    ch, cw = max(8, int(ph * frac)), max(8, int(pw * frac))
    y, x = int(rng.integers(0, ph - ch + 1)), int(rng.integers(0, pw - cw + 1))
    crop = cv2.resize(arr[y : y + ch, x : x + cw], (w, h), interpolation=cv2.INTER_AREA)
    return crop[:, ::-1] if rng.random() < 0.5 else crop


def make_background(rng: np.random.Generator, h: int, w: int, photos: list[str]) -> tuple[Image.Image, int | None]:
    """A room, plain texture or photo background; floor row when it is a room."""
    r, floor_y = rng.random(), None
    if photos and r < 0.3:
        arr = photo_background(rng, h, w, photos[int(rng.integers(len(photos)))])
        arr = random_warp(rng, arr, 0.1)
    elif r < 0.7:
        arr, floor_y = room_background(rng, h, w)
    else:
        kind = rng.choice(["flat", "noise", "gradient", "wood", "tiles"])
        arr = texture(rng, h, w, pick_colour(rng, np.vstack([WALLS, FLOORS])), str(kind))
        arr = random_warp(rng, arr, 0.15) if rng.random() < 0.5 else arr
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)), floor_y


@lru_cache(maxsize=1024)
def cached_cutout(path: str, max_side: int, allow_rectangle: bool) -> Image.Image | None:
    """Per-process cache of product cut-outs."""
    return scenes.load_cutout(path, max_side, allow_rectangle)


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
        cut = cached_cutout(product.path, int(0.75 * imgsz), rect_ok)
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


def build_state(args: argparse.Namespace) -> dict:
    """Load catalogues, split by family and prepare per-split sampling pools."""
    products = scenes.load_products(args.catalogs)
    pools: dict[str, list] = {"train": [], "val": []}
    for p in products:
        pools[scenes.family_split(p.family, args.seed, args.val_fraction)].append(p)
    for split, pool in pools.items():
        if not pool:
            raise SystemExit(f"no products in the {split} split; add more families")
    photos = []
    if args.backgrounds:
        root = Path(args.backgrounds)
        photos = sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
    weights = {s: scenes.class_balanced_weights(pool) for s, pool in pools.items()}
    return {
        "pools": pools,
        "weights": weights,
        "photos": photos,
        "out": Path(args.out),
        "imgsz": args.imgsz,
        "seed": args.seed,
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


def write_metadata(out: Path, args: argparse.Namespace, state: dict, records: list) -> None:
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
        "args": {k: str(v) for k, v in vars(args).items()},
        "classes": CLASSES,
        "catalogs": {Path(c).name: str(Path(c).resolve()) for c in args.catalogs},
        "products": {s: len(p) for s, p in state["pools"].items()},
        "families": {s: len({p.family for p in pool}) for s, pool in state["pools"].items()},
        "boxes": boxes,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="dataset folder to (re)write")
    ap.add_argument("--n-train", type=int, default=4000)
    ap.add_argument("--n-val", type=int, default=400)
    ap.add_argument("--imgsz", type=int, default=640, help="longer image side")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--val-fraction", type=float, default=0.1, help="of families")
    ap.add_argument("--catalogs", nargs="+", default=[str(c) for c in DEFAULT_CATALOGS])
    ap.add_argument("--backgrounds", default=None, help="folder of background photos")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Generate the dataset."""
    args = parse_args(argv)
    out = Path(args.out)
    state = build_state(args)
    for split, pool in state["pools"].items():
        print(f"{split}: {len(pool)} products, {len({p.family for p in pool})} families")
    prepare_out(out)
    jobs = [("train", i) for i in range(args.n_train)]
    jobs += [("val", i) for i in range(args.n_val)]
    bar = dict(total=len(jobs), desc="scenes", unit="img")
    if args.workers <= 1:
        init_worker(state)
        records = [render(job) for job in tqdm(jobs, **bar)]
    else:
        ctx = mp.get_context("fork")
        with ctx.Pool(args.workers, initializer=init_worker, initargs=(state,)) as pool:
            records = list(tqdm(pool.imap(render, jobs, chunksize=4), **bar))
    write_metadata(out, args, state, records)
    n_boxes = sum(o["labelled"] for r in records for o in r["objects"])
    print(f"wrote {len(records)} images with {n_boxes} boxes to {out}")


if __name__ == "__main__":
    main()
