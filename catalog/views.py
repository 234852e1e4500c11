"""Gallery views: each product photo is also indexed as a few renderings of the product in other surroundings.

A catalogue photo is a studio shot on white; a shopper's crop shows the product on a floor, against a wall, lit
differently. Besides the photo's own entries (its detected objects and the whole photo), `BuildConfig.views`
adds that many "view" entries per photo: the product cut out of its white background and pasted, re-lit and
re-scaled on a generated backdrop (`training.head.data.render_cutout`, the same renderer as the embedding head's
training shots, without an occluding product). A product then scores its best entry, so a room crop can match
the view that looks most like it. Measured in docs/BENCHMARKS.md ("Gallery views").

Renderings are deterministic: the k-th view of a photo is drawn from a seed of the photo's content hash and k,
so rebuilding, or re-embedding with a fine-tuned network (`catalog.reembed`), gives the same pictures. A view
row keeps the whole photo as its box (the grid shows the product photo); its rendering is never stored.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from PIL import Image

from catalog.embed_images import OBJECT_COLUMNS, catalog_imgsz, crop_based, decode_batch, entry_row
from engine.embedding import embed_many
from training.head.data import render_cutout
from training.scenes import cutout

VIEW = "view"  # the `kind` of a gallery-view row
CUTOUT_SIDE = 400  # longest side of the cut-out before it is scaled onto the backdrop


def view_seed(content_hash: str, k: int) -> int:
    """The seed of the k-th view of a photo with this content hash (stable across processes and builds)."""
    digest = hashlib.sha256(f"{content_hash}:{k}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def render_view(photo: Image.Image, content_hash: str, k: int) -> tuple[Image.Image, np.ndarray]:
    """The k-th view of a product photo: (RGB rendering, (4,) float32 xyxy box of the product in it)."""
    images, boxes = render_views(photo, content_hash, [k])
    return images[0], boxes[0]


def render_views(photo: Image.Image, content_hash: str, numbers) -> tuple[list[Image.Image], list[np.ndarray]]:
    """The views `numbers` (e.g. range(count)) of one photo, cut out once: (renderings, boxes)."""
    cut = cutout(np.asarray(photo.convert("RGB")), CUTOUT_SIDE)
    if cut is None:  # no clean white background: the photo itself, re-lit and re-scaled
        cut = photo.convert("RGBA")
        cut.thumbnail((CUTOUT_SIDE, CUTOUT_SIDE))
    images, boxes = [], []
    for k in numbers:
        image, box = render_cutout(np.random.default_rng(view_seed(content_hash, k)), cut)
        images.append(image.convert("RGB"))
        boxes.append(np.asarray(box, dtype=np.float32))
    return images, boxes


def view_numbers(meta: pd.DataFrame) -> pd.Series:
    """For view rows, which view of their photo each is (0, 1, … in id order); the renderer's k."""
    views = meta[meta["kind"] == VIEW].sort_values("id", kind="stable")
    return views.groupby("image", sort=False).cumcount()


def images_missing_views(meta: pd.DataFrame, count: int) -> tuple[set[str], np.ndarray]:
    """(photos whose view rows are not exactly `count`, mask of `meta`'s view rows to drop for them)."""
    per_image = meta.loc[meta["kind"] == VIEW, "image"].value_counts()
    have = meta["image"].map(per_image).fillna(0).astype(int)
    wrong = set(meta.loc[have != count, "image"])
    return wrong, ((meta["kind"] == VIEW) & meta["image"].isin(wrong)).to_numpy(dtype=bool)


def plan_views(previous, current: np.ndarray, todo: list[str], count: int) -> tuple[np.ndarray, list[str]]:
    """(`current` without the view rows to redo, photos whose views to render again or drop).

    New or changed photos (`todo`) get `count` views; a kept photo with another number of views (the setting
    changed) has its view rows dropped and rendered again. Only views are redone: no photo is detected again.
    """
    if previous is None:
        return current, list(todo) if count else []
    kept = previous.meta[current]
    wrong, drop = images_missing_views(kept, count)
    current = current.copy()
    current[np.flatnonzero(current)[drop]] = False
    redo = [image for image in dict.fromkeys(kept["image"]) if image in wrong]
    return current, redo + (list(todo) if count else [])


def embed_views(files, images: list[str], hashes, detector, embedder, config, report, first_id: int, step):
    """(view rows, (N, D) vectors) of `config.views` renderings per photo, ids from `first_id`.

    Crop-based embeddings embed the renderings' boxes directly; the others go through the detector first.
    Photos that already failed in this build are skipped; unreadable ones go to `report.failures`.
    """
    failed = {name for name, _ in report.failures}
    todo = [image for image in images if image not in failed]
    step(len(images) - len(todo))  # progress counts them as done
    rows, vectors = [], []
    for start in range(0, len(todo), config.batch):
        names = todo[start : start + config.batch]
        for name, photo in decode_batch(files, names, report) if config.views else []:
            renders, boxes = render_views(photo, hashes[name], range(config.views))
            vectors.append(view_vectors(renders, boxes, detector, embedder, config))
            rows += view_rows(first_id + len(rows), name, hashes[name], photo, len(boxes))
        step(len(names))
    dim = int(embedder.dim) if embedder is not None else 0
    stacked = np.concatenate(vectors) if vectors else np.zeros((0, dim), dtype=np.float32)
    return pd.DataFrame(rows, columns=OBJECT_COLUMNS), stacked


def view_vectors(renders: list[Image.Image], boxes: list[np.ndarray], detector, embedder, config) -> np.ndarray:
    """(N, D) vectors of the renderings' product boxes: straight from the crops for crop-based embeddings, else
    through the detector's features like a photo."""
    if crop_based(embedder):
        return embedder.embed_crops(renders, boxes)
    analyses = detector.analyse(renders, square=True, imgsz=catalog_imgsz(config))
    return np.concatenate(embed_many(embedder, analyses, [box.reshape(1, 4) for box in boxes]))


def view_rows(first_id: int, image: str, content_hash: str, photo: Image.Image, count: int) -> list[dict]:
    """Metadata rows of a photo's `count` views: the whole photo as box (colours come from the photo's rows)."""
    whole = (0.0, 0.0, float(photo.width), float(photo.height))
    return [entry_row(first_id + k, image, content_hash, VIEW, whole, None) for k in range(count)]
