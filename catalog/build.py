"""Catalogue builder: images + product table -> detected, embedded, indexed objects; incremental by content hash."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from catalog.edits import curated_entries, edited_table, out_of_step
from catalog.embed_images import (
    OBJECT_COLUMNS,
    BuildReport,
    appended,
    catalog_imgsz,
    embed_files,
    with_photo_colors,
)
from catalog.products import data_gaps, describe_gaps, read_products
from catalog.rooms import AUTO, find_rooms_csv, with_rooms
from catalog.thumbnails import fill_thumbnails
from catalog.views import embed_views, plan_views
from engine.curation.catalogue_files import ImageFiles, OutsideCatalogueError
from engine.detection.detector import Detector, DetectorConfig
from engine.embedding import EmbeddingConfig, make_embedder
from engine.index.backends import index_class, load_index
from engine.index.factories import keeps_factory
from engine.index.manifest import DetectorInfo, IndexMismatchError, Manifest, new_manifest
from engine.index.store import CatalogIndex, IndexNotFoundError, current_version, writer_lock
from engine.service import check_index
from engine.settings import default_weights

log = logging.getLogger(__name__)

COMPACT_ABOVE = 0.2  # an update compacts the vector index when more than this share of it is tombstones


@dataclass
class BuildConfig:
    """Everything that shapes the index; the detector and embedding parts go into the manifest."""

    detector: DetectorConfig = field(default_factory=DetectorConfig)
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    batch: int = 16
    max_objects: int = 5  # detections kept per catalogue image, by confidence
    views: int = 0  # gallery views per photo: renderings of the product on other backdrops (catalog.views)
    imgsz: int | None = None  # input size for catalogue shots; None: the detector's, as for queries
    index_factory: str | None = None  # FAISS factory string; None: by catalogue size (choose_factory)
    index_params: dict | None = None  # search-time parameters (efSearch, nprobe, …) over the factory's defaults
    compact: bool = False  # rebuild the vector index from the stored vectors (drops tombstones, retrains)
    rebuild: bool = False  # ignore the existing index and embed every image again
    ray: str | None = None  # embed on Ray (catalog.build_ray): "local", "auto" or a cluster address; None: here
    curated: dict = field(default_factory=dict)  # image -> (curated box, keep objects); filled from the index folder
    rooms: str | None = AUTO  # rooms.csv that "goes well with" learns from (catalog.rooms); "auto": found; None: none

    def __post_init__(self):
        """Refuse counts that cannot be meant."""
        if self.views < 0 or self.batch < 1 or self.max_objects < 0:
            raise ValueError(
                f"views and max_objects must be ≥ 0 and batch ≥ 1 (got {self.views}, {self.max_objects}, {self.batch})"
            )


def build_catalog(
    images_dir: str | Path,
    out_dir: str | Path,
    products_csv: str | Path | None = None,
    weights: str | Path | None = None,
    config: BuildConfig | None = None,
    progress: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Build or update the index at `out_dir`; unchanged images are reused, deleted ones dropped.

    `progress` shows a console bar; `on_progress(done, total)` is called after each batch of images.
    The curators' edits stored in `out_dir` are kept: products added in the app (photos in its managed folder),
    products removed, and curated boxes (`catalog.edits`). A first build with gallery views writes the index
    without them first, so it is searchable sooner, then adds the views as a second version.
    """
    config = config or BuildConfig()
    if config.views and (config.rebuild or not _has_index(out_dir)):
        args = (images_dir, out_dir, products_csv, weights)
        photos = build_catalog(*args, replace(config, views=0), progress, on_progress)
        return _merged(photos, build_catalog(*args, replace(config, rebuild=False), progress, on_progress))
    return _build(images_dir, out_dir, products_csv, weights, config, progress, on_progress)


def _build(images_dir, out_dir, products_csv, weights, config: BuildConfig, progress, on_progress) -> BuildReport:
    """`build_catalog` in one pass."""
    started = time.perf_counter()
    images_dir = Path(images_dir).resolve()
    table = read_products(images_dir, products_csv)
    frame, problems = edited_table(out_dir, table.frame)
    frame, rooms = with_rooms(frame, find_rooms_csv(config.rooms, images_dir, products_csv))
    report = BuildReport(images=len(frame), problems=table.problems + problems + rooms.problems)
    report.gaps = describe_gaps(data_gaps(frame), frame["product_id"].nunique())
    detector = Detector(weights or default_weights(), config.detector)
    files = ImageFiles.of_index(images_dir, out_dir)
    with writer_lock(out_dir):
        previous = None if config.rebuild else _reusable_index(out_dir, detector, config)
        hashes = _hash_files(files, frame["image"].tolist())
        config, current, todo = _plan(out_dir, previous, frame, hashes, config, report)
        current, view_todo = plan_views(previous, current, todo, config.views)
        if _up_to_date(previous, todo + view_todo, report, config, frame):
            report.seconds = time.perf_counter() - started
            report.vectors, report.index = len(previous), f"{previous.factory} (up to date: nothing written)"
            previous.close()
            report.thumbnails = fill_thumbnails(files, hashes, out_dir, progress, prune=True)
            return report  # no new version: a running app keeps its loaded index
        next_id = previous.next_id if previous is not None else 0
        total = len(todo) + len(view_todo)  # photos to detect and embed, then photos to render views of
        bar = tqdm(total=total, desc="Embedding catalogue", unit="img", disable=not progress)
        step = _progress_step(bar, total, on_progress)
        new_rows, new_vectors = _embed_images(files, todo, hashes, detector, config, report, next_id, step)
        views = _embed_views(files, view_todo, hashes, detector, config, report, next_id + len(new_rows), step)
        new_rows, new_vectors = appended((new_rows, new_vectors), views)
        bar.close()
        index = _updated_index(previous, current, new_rows, new_vectors, config, report)
        index.replace_meta(with_photo_colors(_with_products(index.meta, frame), files, progress))
        report.embedded = len(todo) - len(report.failures)
        report.viewed = len(set(view_todo) - {name for name, _ in report.failures})
        report.seconds = time.perf_counter() - started
        index.manifest.update(_manifest(detector, config, images_dir, products_csv, index.meta, index.dim, report))
        index.manifest["rooms"] = rooms.facts
        index.save(out_dir)
        report.vectors = len(index)
        report.thumbnails = fill_thumbnails(files, hashes, out_dir, progress, prune=True)  # the index is live
        for opened in {id(x): x for x in (previous, index) if x is not None}.values():
            opened.close()  # Milvus Lite: one process per database file
    return report


def _has_index(out_dir) -> bool:
    """Whether `out_dir` holds a live index version."""
    try:
        current_version(out_dir)
    except IndexNotFoundError:
        return False
    return True


def _merged(photos: BuildReport, views: BuildReport) -> BuildReport:
    """One report for a build made in two passes: the photos, then their gallery views."""
    failures = photos.failures + [f for f in views.failures if f not in photos.failures]
    seconds = photos.seconds + views.seconds
    return replace(
        photos,
        viewed=views.viewed,
        thumbnails=photos.thumbnails + views.thumbnails,
        vectors=views.vectors,
        seconds=seconds,
        index=views.index,
        failures=failures,
    )


def _up_to_date(previous, todo: list[str], report: BuildReport, config: BuildConfig, products: pd.DataFrame) -> bool:
    """True when the build would write the same index again: no image, product row or index setting changed."""
    if previous is None or todo or report.removed or config.compact or config.index_params:
        return False
    if config.index_factory and config.index_factory != previous.factory:
        return False
    stored = previous.meta.reset_index(drop=True)  # rows removed in place leave gaps in its row labels
    return _with_products(previous.meta, products).equals(stored)


def _plan(out_dir, previous, frame: pd.DataFrame, hashes: dict[str, str], config: BuildConfig, report: BuildReport):
    """(config with the curated boxes, mask of the previous rows still current, images to embed)."""
    curated, problems = curated_entries(out_dir, frame, hashes)
    report.problems += problems
    current = _current_mask(previous, hashes, curated)
    kept = set() if previous is None else set(previous.meta[current][["image", "content_hash"]].itertuples(False))
    todo = [image for image in frame["image"] if (image, hashes[image]) not in kept]
    report.unchanged = len(frame) - len(todo)
    report.removed = _count_removed(previous, hashes)
    return replace(config, curated=curated), current, todo


def _current_mask(previous: CatalogIndex | None, hashes: dict[str, str], curated: dict) -> np.ndarray:
    """Which rows of the previous index still match an image of the table with the same content and box."""
    if previous is None:
        return np.zeros(0, dtype=bool)
    known = previous.meta["image"].map(hashes)
    stale = previous.meta["image"].isin(out_of_step(previous.meta, curated))
    return ((known == previous.meta["content_hash"]) & ~stale).to_numpy(dtype=bool)


def _updated_index(previous, current, new_rows, new_vectors, config: BuildConfig, report) -> CatalogIndex:
    """The previous index updated in place (stale rows removed, new ones added), or a new one when it must be."""
    n_after = int(current.sum()) + len(new_rows)
    if previous is None or not _can_update(previous, config, n_after):
        kept = previous.meta[current].reindex(columns=OBJECT_COLUMNS) if previous is not None else new_rows.iloc[:0]
        stored = previous.vectors(kept["id"].to_numpy()) if previous is not None else new_vectors[:0]
        meta = pd.concat([kept, new_rows], ignore_index=True)
        vectors = np.concatenate([stored.reshape(-1, new_vectors.shape[1]), new_vectors])
        factory, params = config.index_factory, config.index_params  # no factory: by size
        index = index_class().from_vectors(vectors, meta, {"dim": vectors.shape[1]}, factory, params)
        report.index = f"{index.factory} ({'built' if previous is None else 'rebuilt from stored vectors'})"
        return index
    previous.remove(previous.meta["id"].to_numpy()[~current])
    previous.add(new_vectors, new_rows)
    if config.index_params:
        previous.set_params(config.index_params)
    action = "updated in place"
    if config.compact or previous.tombstone_fraction > COMPACT_ABOVE:
        previous.compact(retrain=config.compact)
        action += ", compacted"
    report.index = f"{previous.factory} ({action})"
    return previous


def _can_update(previous: CatalogIndex, config: BuildConfig, n_after: int) -> bool:
    """Whether the previous vector index can take the update: same type, still the right one for the size."""
    if config.index_factory:
        return config.index_factory == previous.factory
    if not previous.manifest.get("index_auto", True):
        return True  # an explicit choice sticks until another is given
    return keeps_factory(previous.factory, n_after)


def _with_products(objects: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Object rows joined with the current product table (product columns always come from the table)."""
    meta = objects.reindex(columns=OBJECT_COLUMNS).merge(products, on="image", how="inner")
    return meta.drop_duplicates("id").reset_index(drop=True)


def _reusable_index(out_dir, detector: Detector, config: BuildConfig) -> CatalogIndex | None:
    """The existing index if it was built the same way (same weights and configs), else None."""
    try:
        previous = load_index(out_dir)
        check_index(previous.manifest, detector, config.embedding)
    except IndexNotFoundError:
        return None
    except IndexMismatchError as mismatch:
        log.warning("Embedding every photo again: %s", mismatch)  # e.g. another crop network or input contract
        return None
    if previous.manifest["detector"].get("config") != asdict(config.detector):
        return None
    if (previous.manifest.get("max_objects"), previous.manifest.get("catalog_imgsz")) != (
        config.max_objects,
        catalog_imgsz(config),
    ):
        return None
    return previous


def _hash_files(files: ImageFiles, images: list[str]) -> dict[str, str]:
    """sha1 of each file's bytes (unreadable files hash to '')."""

    def digest(image: str) -> str:
        try:
            return hashlib.sha1(files.path(image).read_bytes()).hexdigest()
        except (OSError, OutsideCatalogueError):
            return ""

    with ThreadPoolExecutor(4) as pool:
        return dict(zip(images, pool.map(digest, images)))


def _count_removed(previous: CatalogIndex | None, hashes: dict[str, str]) -> int:
    """Images in the previous index that are gone from the table now."""
    if previous is None:
        return 0
    return len(set(previous.meta["image"]) - set(hashes))


def _progress_step(bar, total: int, on_progress: Callable[[int, int], None] | None) -> Callable[[int], None]:
    """A function that advances the console bar and tells `on_progress` how many images are done so far."""
    done = 0  # counted here: a disabled (quiet) tqdm bar does not count
    if on_progress:
        on_progress(0, total)

    def step(n: int) -> None:
        nonlocal done
        done += n
        bar.update(n)
        if on_progress:
            on_progress(done, total)

    return step


def _embed_images(files, todo, hashes, detector, config, report, next_id, step):
    """Detect and embed images in batches (decoding the next batch while the model runs), or on Ray."""
    if config.ray and todo:
        return _on_ray(files, todo, hashes, detector, config, report, next_id, views=False)
    embedder = make_embedder(config.embedding, detector)
    return embed_files(files, todo, hashes, detector, embedder, config, report, next_id, step)


def _embed_views(files, images, hashes, detector, config, report, first_id, step):
    """(rows, vectors) of the gallery views of `images` (`catalog.views`), or on Ray; none when views are off."""
    if config.ray and images and config.views:
        return _on_ray(files, images, hashes, detector, config, report, first_id, views=True)
    embedder = make_embedder(config.embedding, detector) if images and config.views else None
    return embed_views(files, images, hashes, detector, embedder, config, report, first_id, step)


def _on_ray(files, images, hashes, detector, config, report, first_id, views: bool):
    """`catalog.build_ray.embed_images_ray` with this build's detector weights."""
    from catalog.build_ray import embed_images_ray

    weights = str(detector.weights_path) if detector.weights_path.is_file() else detector.weights_name
    return embed_images_ray(files, images, hashes, weights, config, report, first_id, views)


def _manifest(detector, config, images_dir, products_csv, meta, dim, report) -> Manifest:
    """The manifest describing how the index was built."""
    used = DetectorInfo(
        weights=detector.weights_name,
        weights_path=str(detector.weights_path),
        weights_sha256=detector.weights_sha256,
        config=asdict(config.detector),
        class_names=[detector.names[i] for i in sorted(detector.names)],
        input=detector.describe_input(),
    )
    return new_manifest(
        used,
        config.embedding.to_dict(),
        dim,
        build_seconds=round(report.seconds, 2),
        images_root=str(images_dir),
        products_csv=str(Path(products_csv).resolve()) if products_csv else None,
        max_objects=config.max_objects,
        views=config.views,
        catalog_imgsz=catalog_imgsz(config),
        **catalogue_counts(meta),
    )


def catalogue_counts(meta: pd.DataFrame) -> dict:
    """The manifest's counts of images, products and detected objects."""
    return {
        "n_images": int(meta["image"].nunique()),
        "n_products": int(meta["product_id"].nunique()),
        "n_objects": int((meta["kind"] == "object").sum()),
    }
