"""Change a built index in place, the way its build would: the same detector, embedding and config.

`Updater.for_index` loads the detector and embedder an index was built with (from its manifest, checked as
`engine.load` checks them); `editing` holds the writer lock, yields the live index loaded for writing and
saves it as a new version (atomically) when the block ends without an error. `catalog.curate` (curated
boxes) and `catalog.manage` (products added and removed) build on both.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from catalog import background
from catalog.build import BuildConfig, category_classes
from catalog.embed_images import OBJECT_COLUMNS, BuildReport, appended, embed_files, fill_photo_colors
from catalog.grow import catalogue_counts
from catalog.thumbnails import fill_thumbnails
from catalog.views import embed_views
from engine.curation.catalogue_files import ImageFiles
from engine.detection.detector import Detector, DetectorConfig
from engine.embedding import Embedder, make_embedder
from engine.index.backends import load_index, load_manifest
from engine.index.store import IndexBusyError, writer_lock
from engine.service import check_index, check_weights_file, recorded_embedding, recorded_weights

BUSY_WAIT_SECONDS = 3.0  # an edit waits this long for the index's write lock, then says who holds it


class UpdateError(ValueError):
    """An edit that cannot be applied; the message is meant for the curator."""


class CatalogueBusyError(UpdateError):
    """A background build (or another edit) is writing the index: nothing was changed, try again later."""


@dataclass
class Updater:
    """What it takes to embed catalogue photos into an existing index exactly as its build did."""

    index_dir: Path
    detector: Detector
    embedder: Embedder
    config: BuildConfig
    files: ImageFiles

    @classmethod
    def for_index(cls, index_dir: str | Path, weights: str | Path | None = None) -> Updater:
        """The detector (with the build's confidence), embedder and config recorded in the index's manifest."""
        manifest = load_manifest(index_dir)
        built = manifest["detector"]
        weights = weights or recorded_weights(built)
        check_weights_file(weights, built)
        detector = Detector(weights, DetectorConfig(**built["config"]))
        embedding = recorded_embedding(manifest)  # its head found among the trusted checkpoints
        check_index(manifest, detector, embedding)
        config = BuildConfig(
            detector=detector.config,
            embedding=embedding,
            max_objects=int(manifest.get("max_objects", BuildConfig.max_objects)),
            views=int(manifest.get("views", 0)),
            imgsz=manifest.get("catalog_imgsz"),
        )
        files = ImageFiles.of_index(manifest["images_root"], index_dir)
        return cls(Path(index_dir), detector, make_embedder(embedding, detector), config, files)

    def bound_to(self, index_dir: str | Path) -> Updater:
        """This updater for another index built the same way (its folders); `IndexMismatchError` otherwise."""
        if Path(index_dir) == self.index_dir:
            return self
        manifest = load_manifest(index_dir)
        check_index(manifest, self.detector, self.embedder.config)
        files = ImageFiles.of_index(manifest["images_root"], index_dir)
        return replace(self, index_dir=Path(index_dir), files=files)

    def embed(self, images: list[str], next_id: int, curated: dict | None = None, progress=None, products=None):
        """(object rows, vectors, failures) for catalogue images, ids from `next_id`; `curated` as in a build.

        `products` (rows with `image` and `category`) give product shots' entries the class of their category."""
        hashes = {image: file_sha1(self.files.path(image)) for image in images}
        report = BuildReport()
        classes = category_classes(pd.DataFrame(products)) if products is not None else {}
        config = replace(self.config, curated=curated or {}, classes=classes)
        done = [0]

        def step(n: int) -> None:
            done[0] += n
            if progress:
                progress(done[0], len(images))

        rows, vectors = embed_files(
            self.files, images, hashes, self.detector, self.embedder, config, report, next_id, step
        )
        if config.views and len(rows):  # the index's gallery views, rendered for the new photos too
            rows, vectors = self._with_views(rows, vectors, hashes, config, report, next_id + len(rows))
        fill_thumbnails(self.files, hashes, self.index_dir)
        return rows, vectors, report.failures

    def _with_views(self, rows: pd.DataFrame, vectors: np.ndarray, hashes: dict, config, report, first_id: int):
        """The photos' rows and vectors followed by their gallery views (`catalog.views`)."""
        images = list(dict.fromkeys(rows["image"]))
        views = embed_views(
            self.files, images, hashes, self.detector, self.embedder, config, report, first_id, lambda _: None
        )
        rows, vectors = appended((rows, vectors), views)
        return fill_photo_colors(rows), vectors

    def detections(self, picture) -> list:
        """The objects the build indexes for a product photo (its top detections), best first."""
        analysis = self.detector.analyse([picture], square=True, imgsz=self.config.imgsz)[0]
        return sorted(analysis.detections, key=lambda d: -d.confidence)[: self.config.max_objects]


def busy_message(index_dir: str | Path) -> str:
    """Why the index cannot be changed right now, for the curator: the running build's progress, if any."""
    build = background.status(index_dir)
    if build.state != background.RUNNING:
        return "Another change to this catalogue is being saved. Nothing was changed: try again in a moment."
    left = build.seconds_left
    when = f", about {max(1, round(left / 60))} min left" if left is not None else ""
    done = f" ({build.done:,} of {build.total:,} photos{when})" if build.total else ""
    return f"The catalogue is being rebuilt in the background{done}. Nothing was changed: try again when it is done."


def index_busy(index_dir: str | Path) -> str | None:
    """`busy_message` when the index's write lock is taken right now, else None (checked, not held)."""
    try:
        with writer_lock(index_dir, timeout=0):
            return None
    except IndexBusyError:
        return busy_message(index_dir)


@contextlib.contextmanager
def editing(index_dir: str | Path, wait: float = BUSY_WAIT_SECONDS):
    """Yield the live index, loaded for writing under the writer lock; saved as a new version when the block ends.

    An error inside the block leaves the live version as it was. When the lock stays taken for `wait` seconds
    (a background build holds it), `CatalogueBusyError` says so and nothing is changed: an edit never waits forever.
    """
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(writer_lock(index_dir, timeout=wait))
        except IndexBusyError as err:
            raise CatalogueBusyError(busy_message(index_dir)) from err
        index = load_index(index_dir, mmap=False)
        try:
            yield index
            index.manifest.update(catalogue_counts(index.meta), edited_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
            index.save(index_dir)
        finally:
            index.close()


def with_product_columns(rows: pd.DataFrame, product: dict) -> pd.DataFrame:
    """Object rows of one photo with the product's columns added (object columns win)."""
    columns = {k: v for k, v in product.items() if k not in OBJECT_COLUMNS}
    return rows.assign(**{k: [v] * len(rows) for k, v in columns.items()})


def product_rows(index, product_id: str) -> pd.DataFrame:
    """The index rows of a product; `UpdateError` when it is not in the catalogue."""
    rows = index.meta[index.meta["product_id"] == product_id]
    if rows.empty:
        raise UpdateError(f"There is no product '{product_id}' in this catalogue.")
    return rows


def replace_rows(index, old: pd.DataFrame, rows: pd.DataFrame, vectors: np.ndarray) -> None:
    """Swap a product's index entries for new ones (new ids; removed ids are never reused)."""
    index.remove(old["id"].to_numpy())
    index.add(vectors, rows)


def file_sha1(path: Path) -> str:
    """sha1 of a file's bytes, as the build hashes photos."""
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()
