"""Training views for the embedding head: products in context (scene crops) and augmented product shots.

Every view is a (photo, box) of one catalogue product. The frozen base embedder (e.g. `effnet-crop`) turns it
into a base vector once; those vectors are cached on disk in chunks (`FeatureCache`), so training a head, or
ten heads, never reruns the CNN. Views keep the product's identity, family and category, and the family's
split (`training.scenes.family_split`), so held-out families can be kept out of training entirely.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageFilter
from tqdm import tqdm

from training.backgrounds import shot_backdrop
from training.metrics import normalise_family
from training.scenes import augment_cutout, family_split, finish_image, load_cutout

VIEW_COLUMNS = ["key", "product_id", "catalog", "family", "category", "source", "split"]
MIN_BOX_SIDE = 24  # scene boxes smaller than this (pixels) are too small to describe a product
CHUNK = 256  # views per cache file


@dataclass(frozen=True)
class SplitRule:
    """Which families are held out: `family_split(family, seed, val_fraction) == "val"` (benchmark defaults)."""

    seed: int = 0
    val_fraction: float = 0.1

    def __call__(self, family: str) -> str:
        """'train' or 'val' for a family name (normalised as the benchmark does)."""
        return family_split(normalise_family(family), self.seed, self.val_fraction)


def product_key(catalog: str, product_id: str) -> str:
    """A label unique across catalogues."""
    return f"{catalog}:{product_id}"


def scene_views(scenes_dir: str | Path, split: str = "train", catalogs: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per labelled object of the synthetic scenes' `split`: image path, box and product labels."""
    scenes_dir = Path(scenes_dir)
    rows = []
    with open(scenes_dir / "scenes.jsonl", encoding="utf-8") as handle:
        for line in handle:
            scene = json.loads(line)
            if scene["split"] != split:
                continue
            for obj in scene["objects"]:
                x0, y0, x1, y1 = obj["box"]
                if not obj.get("labelled") or min(x1 - x0, y1 - y0) < MIN_BOX_SIDE:
                    continue
                if catalogs and obj["catalog"] not in catalogs:
                    continue
                rows.append(_view_row(obj, "scene", str(scenes_dir / scene["image"]), obj["box"]))
    return pd.DataFrame(rows)


def _view_row(obj: dict, source: str, path: str, box) -> dict:
    """A view record from a product description."""
    family = normalise_family(obj["family"])
    return {
        "key": product_key(obj["catalog"], obj["product_id"]),
        "product_id": obj["product_id"],
        "catalog": obj["catalog"],
        "family": family,
        "category": obj["category"],
        "source": source,
        "path": path,
        "box": [float(v) for v in box],
    }


def shot_views(
    catalog_dir: str | Path, copies: int, rule: SplitRule, seed: int = 0, products_csv: str | Path | None = None
) -> pd.DataFrame:
    """`copies` augmented-shot views of every product of a catalogue whose family trains (rendered later)."""
    catalog_dir = Path(catalog_dir)
    table = pd.read_csv(products_csv or catalog_dir / "products.csv", dtype=str, keep_default_na=False)
    rows = []
    for record in table.to_dict("records"):
        family = record.get("family") or record.get("name") or record["product_id"]
        if not record.get("image") or not record.get("category") or rule(family) != "train":
            continue
        obj = {**record, "catalog": catalog_dir.name, "family": family}
        for copy in range(copies):
            row = _view_row(obj, "shot", str(catalog_dir / record["image"]), (0, 0, 0, 0))
            rows.append(row | {"seed": seed * 1_000_003 + copy * 7919 + len(rows)})
    frame = pd.DataFrame(rows)
    if len(frame):  # another product of the catalogue that may occlude this one
        frame["occluder"] = frame["path"].sample(frac=1.0, random_state=seed).to_numpy()
    return frame


def render_shot(
    path: str, seed: int, occluder_path: str | None = None
) -> tuple[Image.Image, tuple[float, float, float, float]]:
    """A product shot cut out and pasted, augmented (scale, flip, rotation, colour, light, blur, noise, JPEG,
    partial crop) on a random backdrop; returns the image and the product's visible box."""
    occluder = load_cutout(occluder_path, max_side=300) if occluder_path else None
    cut = load_cutout(path, max_side=400)
    if cut is None:  # no clean mask: the photo itself, colour-jittered
        cut = Image.open(path).convert("RGBA")
    return render_cutout(np.random.default_rng(seed), cut, occluder)


def render_cutout(
    rng: np.random.Generator, cut: Image.Image, occluder: Image.Image | None = None
) -> tuple[Image.Image, tuple[float, float, float, float]]:
    """`render_shot` of an RGBA cut-out already in memory (and an optional occluding cut-out)."""
    width, height = int(rng.integers(256, 481)), int(rng.integers(256, 481))
    side = int(rng.uniform(0.45, 0.95) * min(width, height))
    cut = augment_cutout(rng, cut, side)
    x = int(rng.uniform(-0.2 * cut.width, width - 0.8 * cut.width))
    y = int(rng.uniform(-0.2 * cut.height, height - 0.8 * cut.height))
    canvas = Image.fromarray(shot_backdrop(rng, height, width).astype(np.uint8))
    canvas.paste(cut, (x, y), cut)
    box = (max(0, x), max(0, y), min(width, x + cut.width), min(height, y + cut.height))
    if occluder is not None and rng.random() < 0.4:
        _occlude(rng, canvas, augment_cutout(rng, occluder, int(side * rng.uniform(0.3, 0.7))), box)
    image = finish_image(rng, canvas)
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 2.5))))
    if rng.random() < 0.6:
        image = _jpeg(image, int(rng.integers(25, 95)))
    return image, tuple(float(v) for v in box)


def _occlude(rng: np.random.Generator, canvas: Image.Image, cut: Image.Image, box) -> None:
    """Paste another product in front of the box's lower part, as a distractor standing before it."""
    x0, _, x1, y1 = box
    x = int(rng.uniform(x0 - 0.5 * cut.width, x1 - 0.5 * cut.width))
    y = int(rng.uniform(y1 - 0.6 * cut.height, y1 - 0.2 * cut.height))
    canvas.paste(cut, (x, y), cut)


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    """Round-trip through JPEG at `quality`."""
    import io

    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def view_image(row: dict) -> tuple[Image.Image, tuple[float, ...]]:
    """The photo and box of one view (a shot view is rendered from its seed)."""
    if row["source"] == "shot":
        occluder = row.get("occluder")
        return render_shot(row["path"], int(row["seed"]), occluder if isinstance(occluder, str) else None)
    return Image.open(row["path"]).convert("RGB"), tuple(row["box"])


class FeatureCache:
    """Base vectors of views, stored in chunk files under `root/name/` so an interrupted run resumes."""

    def __init__(self, root: str | Path, name: str):
        self.folder = Path(root) / name
        self.folder.mkdir(parents=True, exist_ok=True)

    def fill(self, views: pd.DataFrame, encode, progress: bool = True) -> None:
        """Embed every view not cached yet; `encode(images, boxes)` -> (n, D) float32 base vectors."""
        views.drop(columns=["box"], errors="ignore").to_parquet(self.folder / "views.parquet", index=False)
        chunks = range(0, len(views), CHUNK)
        bar = tqdm(total=len(views), desc=f"Base features {self.folder.name}", unit="view", disable=not progress)
        for start in chunks:
            target = self.folder / f"chunk-{start // CHUNK:05d}.npy"
            if not target.exists():
                pairs = [view_image(row) for row in views.iloc[start : start + CHUNK].to_dict("records")]
                vectors = np.concatenate([encode(*zip(*pairs[i : i + 32])) for i in range(0, len(pairs), 32)])
                np.save(target.with_suffix(".tmp.npy"), vectors.astype(np.float16))
                target.with_suffix(".tmp.npy").replace(target)
            bar.update(min(CHUNK, len(views) - start))
        bar.close()

    def load(self) -> tuple[pd.DataFrame, np.ndarray]:
        """(views, (N, D) float32 vectors) of the cached views, in order; only complete chunks count."""
        views = pd.read_parquet(self.folder / "views.parquet")
        parts = []
        for i in range(0, len(views), CHUNK):
            target = self.folder / f"chunk-{i // CHUNK:05d}.npy"
            if not target.exists():
                break
            parts.append(np.load(target).astype(np.float32))
        vectors = np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
        return views.iloc[: len(vectors)].reset_index(drop=True), vectors
