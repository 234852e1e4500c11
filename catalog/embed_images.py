"""The catalogue builder's embedding step: decode image batches, find the boxes to index, embed them, one row each.

A product shot (one product on white, `engine.search.query.product_shot_box`) is indexed by two entries: the box
of its non-white pixels, with the class of its catalogue category, and the whole photo; the detector never sees it.
Other photos go through the detector: their top detections plus the whole photo. Crops of every photo in a batch go
through the crop network together. Shared by the single-process build (`catalog.build`) and the Ray one
(`catalog.build_ray`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm import tqdm

from catalog.edits import CURATED
from engine.curation.catalogue_files import ImageFiles, OutsideCatalogueError
from engine.detection.detector import Analysis, Detection
from engine.embedding import embed_many
from engine.geometry import box_iou, plan_letterbox
from engine.images import ImageLoadError, load_image
from engine.search.colors import dominant_colors, format_colors
from engine.search.query import product_shot_box

OBJECT_COLUMNS = ["id", "image", "content_hash", "kind", "x0", "y0", "x1", "y1", "class_name", "confidence", "colors"]
SAME_AS_WHOLE = 0.9  # an object box overlapping the whole photo this much is not indexed again


@dataclass
class BuildReport:
    """What a build did; `failures` are (image, reason) pairs that were skipped."""

    images: int = 0
    embedded: int = 0
    unchanged: int = 0
    viewed: int = 0  # photos whose gallery views were rendered (or dropped) again
    thumbnails: int = 0  # product thumbnails written (`catalog.thumbnails`)
    removed: int = 0
    vectors: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)  # what shoppers will miss: no name, no price, … (data_gaps)
    index: str = ""  # e.g. "HNSW32,SQ8 (updated in place)"

    @property
    def images_per_second(self) -> float:
        """Throughput over the images that were actually embedded."""
        return self.embedded / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        """One line for the console."""
        return (
            f"{self.images} images: {self.embedded} embedded, {self.unchanged} unchanged, {self.removed} removed, "
            f"{self.viewed} with new gallery views, {self.thumbnails} new thumbnails, "
            f"{len(self.failures)} unreadable, {len(self.problems)} table problems; {self.vectors} vectors; "
            f"{self.seconds:.1f} s ({self.images_per_second:.1f} images/s); index {self.index}"
        )


def catalog_imgsz(config) -> int:
    """The input size used for catalogue images."""
    return config.imgsz or config.detector.imgsz


def embed_files(files: ImageFiles, todo, hashes, detector, embedder, config, report, next_id, step):
    """(object rows, (N, D) vectors) of the `todo` images, ids from `next_id`; unreadable ones go to `report`.

    `step(n)` is called after each batch with the number of images it held.
    """
    rows: list[dict] = []
    vectors: list[np.ndarray] = []
    batches = [todo[i : i + config.batch] for i in range(0, len(todo), config.batch)]
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(decode_batch, files, batches[0], report) if batches else None
        for i in range(len(batches)):
            decoded = pending.result()
            if i + 1 < len(batches):
                pending = pool.submit(decode_batch, files, batches[i + 1], report)
            batch_rows, batch_vectors = embed_batch(decoded, detector, embedder, config, hashes, next_id + len(rows))
            rows += batch_rows
            vectors += batch_vectors
            step(len(batches[i]))
    dim = vectors[0].shape[1] if vectors else int(embedder.dim)
    stacked = np.concatenate(vectors) if vectors else np.zeros((0, dim), dtype=np.float32)
    return pd.DataFrame(rows, columns=OBJECT_COLUMNS), stacked


def crop_based(embedder) -> bool:
    """Whether the embedder (or the one under its head) embeds box crops of the photo, without the detector's maps."""
    return hasattr(getattr(embedder, "base", embedder), "embed_crops")


def embed_batch(decoded, detector, embedder, config, hashes, first_id) -> tuple[list[dict], list[np.ndarray]]:
    """Rows and (n, D) vector blocks for one decoded batch; ids count up from `first_id`."""
    if not decoded:
        return [], []
    names, images = zip(*decoded)
    shots = [product_shot_box(image) if crop_based(embedder) else None for image in images]
    analyses = _analyses(images, shots, detector, catalog_imgsz(config))
    entries = [
        _shot_entries(analysis, shot, config.max_objects, config.curated.get(name), config.classes.get(name, ""))
        if shot is not None
        else _entries(analysis, config.max_objects, config.curated.get(name))
        for analysis, shot, name in zip(analyses, shots, names)
    ]
    vectors = embed_many(embedder, analyses, [boxes for boxes, _, _ in entries])  # one crop batch for all images
    rows = []
    for name, image, (boxes, kinds, found) in zip(names, images, entries):
        colors = format_colors(dominant_colors(image))  # the product photo's, on each of its rows
        for box, kind, det in zip(boxes, kinds, found):
            rows.append({**entry_row(first_id + len(rows), name, hashes[name], kind, box, det), "colors": colors})
    return rows, vectors


def _analyses(images, shots, detector, imgsz: int) -> list[Analysis]:
    """One analysis per image: the detector's for photos that are not product shots, a bare one (no detector) else."""
    detect = [i for i, shot in enumerate(shots) if shot is None]
    found = iter(detector.analyse([images[i] for i in detect], square=True, imgsz=imgsz) if detect else [])
    stride = int(max(detector.strides))
    return [
        next(found) if shot is None else Analysis([], [], [], plan_letterbox(image.size, imgsz, stride, True), image)
        for image, shot in zip(images, shots)
    ]


def decode_batch(files: ImageFiles, names: list[str], report: BuildReport) -> list:
    """(name, image) pairs for the readable files; the rest are recorded as failures."""
    decoded = []
    for name in names:
        try:
            decoded.append((name, load_image(files.path(name))))
        except (ImageLoadError, OSError) as err:
            report.failures.append((name, str(err)))
    return decoded


def _entries(analysis, max_objects: int, curated=None):
    """Boxes to index for one image: its top detections plus the whole image; a curated box first, when set.

    `curated` is (box, keep_objects): the detections stay only when the curator kept them.
    """
    width, height = analysis.letterbox.source_size
    whole = (0.0, 0.0, float(width), float(height))
    found = sorted(analysis.detections, key=lambda d: -d.confidence)[:max_objects]
    found = [d for d in found if box_iou(d.box, whole) < SAME_AS_WHOLE]  # the whole-image entry already covers it
    own = _curated_box(curated, (width, height))
    if curated is not None and not curated[1]:
        found = []  # the curator did not keep the detected objects
    boxes = own + [d.box for d in found] + [whole]
    kinds = [CURATED] * len(own) + ["object"] * len(found) + ["image"]
    return np.array(boxes, dtype=np.float32), kinds, [None] * len(own) + [*found, None]


def _shot_entries(analysis, shot, max_objects: int, curated=None, cls: str = ""):
    """Boxes to index for a product shot: the product's box (with the class of its category) and the whole photo,
    a curated box first.

    With a curated box the product's box stays only when the curator kept the objects (and `max_objects` > 0); a
    product's box that is nearly the whole photo is not indexed twice. The whole photo pays on real rooms
    (docs/BENCHMARKS.md, "Catalogue build").
    """
    width, height = analysis.letterbox.source_size
    whole = (0.0, 0.0, float(width), float(height))
    own = _curated_box(curated, (width, height))
    keep = (not own or curated[1]) and max_objects > 0 and box_iou(shot, whole) < SAME_AS_WHOLE
    product = [Detection(tuple(map(float, shot)), cls, 1.0)] if keep else []
    boxes = own + [d.box for d in product] + [whole]
    kinds = [CURATED] * len(own) + ["object"] * len(product) + ["image"]
    return np.array(boxes, dtype=np.float32), kinds, [None] * len(own) + product + [None]


def _curated_box(curated, size: tuple[int, int]) -> list[tuple[float, ...]]:
    """[the curated box clipped to the (w, h) photo], or [] without one."""
    if curated is None:
        return []
    width, height = size
    return [tuple(float(v) for v in np.clip(curated[0], 0, [width, height, width, height]))]


def entry_row(row_id: int, image: str, content_hash: str, kind: str, box, detection) -> dict:
    """One metadata row for an indexed object."""
    return {
        "id": row_id,
        "image": image,
        "content_hash": content_hash,
        "kind": kind,
        **dict(zip(("x0", "y0", "x1", "y1"), (float(v) for v in box))),
        "class_name": detection.class_name if detection else "",
        "confidence": detection.confidence if detection else 1.0,
    }


def fill_photo_colors(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows without colours (gallery views) take those of their photo's other rows, where it has any."""
    colors = rows["colors"].astype(object)  # all missing reads as float: fill it with text, not into floats
    return rows.assign(colors=colors.fillna(rows.groupby("image")["colors"].transform("first")))


def with_photo_colors(meta: pd.DataFrame, files: ImageFiles, progress: bool = False) -> pd.DataFrame:
    """Rows without colours take those of their photo's other rows, else the photo's (computed, no re-embedding).

    Gallery views and rows of images indexed before colours were stored have none of their own.
    """
    meta = fill_photo_colors(meta)
    missing = meta.loc[meta["colors"].isna(), "image"].unique()
    if not len(missing):
        return meta
    found = {}
    for image in tqdm(missing, desc="Product colours", unit="img", disable=not progress):
        try:
            found[image] = format_colors(dominant_colors(load_image(files.path(image))))
        except (ImageLoadError, OSError, OutsideCatalogueError):
            continue
    return meta.assign(colors=meta["colors"].fillna(meta["image"].map(found)))


def appended(first: tuple[pd.DataFrame, np.ndarray], second: tuple[pd.DataFrame, np.ndarray]):
    """Two (rows, vectors) blocks as one."""
    if not len(second[0]):
        return first
    if not len(first[0]):
        return second
    return pd.concat([first[0], second[0]], ignore_index=True), np.concatenate([first[1], second[1]])
