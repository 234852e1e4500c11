"""A build's index writing: photos (then gallery views) embedded in parts, the index updated and published.

`Growing.grow` embeds the photos a build plans and adds them to the index (stale rows removed first); a first
build publishes a searchable version after its first few hundred photos, and later ones now and then, so the
app can search while the rest are embedded and an interrupted build keeps what it published. `Growing.publish`
writes the live version, its manifest saying how many photos are still to come (`pending_images`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from catalog.embed_images import OBJECT_COLUMNS, BuildReport, catalog_imgsz, embed_files, with_photo_colors
from catalog.thumbnails import fill_thumbnails
from catalog.views import embed_views
from engine.curation.catalogue_files import ImageFiles
from engine.detection.detector import Detector
from engine.embedding import make_embedder
from engine.index.backends import index_class
from engine.index.factories import keeps_factory
from engine.index.manifest import DetectorInfo, Manifest, new_manifest
from engine.index.store import CatalogIndex
from engine.settings import index_backend

ENTRIES = "product-shot-box+photo"  # how photos become entries (`catalog.embed_images`); others: rebuilt
PUBLISH_PHOTOS = 256  # a growing build publishes a searchable version after at least this many more photos …
PUBLISH_SECONDS = 30.0  # … and (once one is live) at least this long after the last
PUBLISH_PART = 64  # photos embedded between two looks at whether to publish
COMPACT_ABOVE = 0.2  # an update compacts the vector index when more than this share of it is tombstones


@dataclass
class Growing:
    """One build's embedding loop: photos (then views) in parts, a searchable version published now and then.

    A first build publishes after its first `PUBLISH_PHOTOS` photos, so the app can search while the rest are
    embedded; later versions follow at most every `PUBLISH_SECONDS` (and `PUBLISH_PHOTOS`), so an interrupted
    build keeps what it published and the next one goes on from there (unchanged photos are never redone).
    """

    out_dir: Path
    files: ImageFiles
    hashes: dict
    frame: pd.DataFrame
    detector: Detector
    config: object  # catalog.build.BuildConfig (not imported: build imports this module)
    report: BuildReport
    source: tuple  # (images_dir, products_csv), for the manifest
    started: float
    last_publish: float = field(default_factory=time.perf_counter)
    manifest_extra: dict = field(default_factory=dict)  # more manifest sections, e.g. "rooms" (catalog.rooms)

    def grow(self, previous, current, todo: list[str], view_todo: list[str], progress, on_progress):
        """The index with every photo of `todo` and the gallery views of `view_todo` added (and stale rows gone)."""
        config, report = self.config, self.report
        bar = tqdm(total=len(todo) + len(view_todo), desc="Embedding catalogue", unit="img", disable=not progress)
        step = _progress_step(bar, len(todo) + len(view_todo), on_progress)
        embedder = None if config.ray else make_embedder(config.embedding, self.detector)
        parts = [(p, False) for p in _parts(todo, config)] + [(p, True) for p in _parts(view_todo, config)]
        index, next_id, since, live = previous, previous.next_id if previous is not None else 0, 0, previous is not None
        for number, (part, views) in enumerate(parts):
            embed = _embed_views if views else _embed_images
            rows, vectors = embed(self.files, part, self.hashes, self.detector, embedder, config, report, next_id, step)
            next_id += len(rows)
            if not len(rows) and index is not None:
                rows, vectors = _no_rows(index)  # e.g. views dropped: (0, D), whatever the embedder
            first = number == 0
            mask = current if first else np.ones(len(index.meta), dtype=bool)
            index = _updated_index(
                index, mask, rows, vectors, config if first else replace(config, compact=False), report
            )
            since += len(part)
            later = parts[number + 1 :]
            if later and self._time_to_publish(since, live):
                pending = sum(len(p) for p, views in later if not views)  # photos not yet searchable
                self.publish(index, pending, [image for p, _ in parts[: number + 1] for image in p])
                since, live = 0, True
        bar.close()
        if not parts:  # nothing to embed (only removals): the update still applies
            index = _updated_index(previous, current, *_no_rows(previous), config, report)
        elif previous is None:
            report.index = f"{index.factory} (built)"  # in parts, but from nothing
        return index

    def _time_to_publish(self, since: int, live: bool) -> bool:
        """After the first `PUBLISH_PHOTOS` of a catalogue with no live index; then also `PUBLISH_SECONDS` apart."""
        if since < PUBLISH_PHOTOS:
            return False
        return not live or time.perf_counter() - self.last_publish >= PUBLISH_SECONDS

    def publish(self, index: CatalogIndex, pending: int, done: list[str] | None = None) -> None:
        """Save `index` as the live version; `pending` photos of this build are still to come (0: the last one)."""
        index.replace_meta(with_photo_colors(with_products(index.meta, self.frame), self.files, False))
        self.report.seconds = time.perf_counter() - self.started
        images_dir, products_csv = self.source
        facts = _manifest(self.detector, self.config, images_dir, products_csv, index.meta, index.dim, self.report)
        index.manifest.update(facts, pending_images=pending, **self.manifest_extra)
        index.save(self.out_dir)
        self.last_publish = time.perf_counter()
        if done is not None:  # the shown photos' thumbnails, so the grid has them at once
            done_hashes = {image: self.hashes[image] for image in done}
            self.report.thumbnails += fill_thumbnails(self.files, done_hashes, self.out_dir)


def _parts(images: list[str], config) -> list[list[str]]:
    """`images` in parts of `PUBLISH_PART`; one part on Ray (it spreads a whole list over its workers) and Milvus."""
    if config.ray or index_backend() == "milvus" or not images:
        return [images] if images else []
    return [images[i : i + PUBLISH_PART] for i in range(0, len(images), PUBLISH_PART)]


def _no_rows(index: CatalogIndex) -> tuple[pd.DataFrame, np.ndarray]:
    """(no rows, (0, D) vectors) for an update that only removes."""
    return index.meta.iloc[:0].reindex(columns=OBJECT_COLUMNS), np.zeros((0, index.dim), dtype=np.float32)


def _updated_index(previous, current, new_rows, new_vectors, config, report) -> CatalogIndex:
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


def _can_update(previous: CatalogIndex, config, n_after: int) -> bool:
    """Whether the previous vector index can take the update: same type, still the right one for the size."""
    if config.index_factory:
        return config.index_factory == previous.factory
    if not previous.manifest.get("index_auto", True):
        return True  # an explicit choice sticks until another is given
    return keeps_factory(previous.factory, n_after)


def with_products(objects: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Object rows joined with the current product table (product columns always come from the table)."""
    meta = objects.reindex(columns=OBJECT_COLUMNS).merge(products, on="image", how="inner")
    return meta.drop_duplicates("id").reset_index(drop=True)


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


def _embed_images(files, todo, hashes, detector, embedder, config, report, next_id, step):
    """Detect and embed images in batches (decoding the next batch while the model runs), or on Ray."""
    if config.ray and todo:
        return _on_ray(files, todo, hashes, detector, config, report, next_id, views=False)
    return embed_files(files, todo, hashes, detector, embedder, config, report, next_id, step)


def _embed_views(files, images, hashes, detector, embedder, config, report, first_id, step):
    """(rows, vectors) of the gallery views of `images` (`catalog.views`), or on Ray; none when views are off."""
    if config.ray and images and config.views:
        return _on_ray(files, images, hashes, detector, config, report, first_id, views=True)
    return embed_views(
        files, images, hashes, detector, embedder if config.views else None, config, report, first_id, step
    )


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
        entries=ENTRIES,
        **catalogue_counts(meta),
    )


def catalogue_counts(meta: pd.DataFrame) -> dict:
    """The manifest's counts of images, products and detected objects."""
    return {
        "n_images": int(meta["image"].nunique()),
        "n_products": int(meta["product_id"].nunique()),
        "n_objects": int((meta["kind"] == "object").sum()),
    }
