"""Re-embedding an index with a head: the stored base vectors go through the head; no image is read again.

A head that carries a fine-tuned network tail (`engine.embedding.tail`) changes the base vectors themselves, so
then every entry is embedded again from its photo and box (photos only from the catalogue's own folders), and
every gallery view from its rendering, drawn again from the same seed (`catalog.views`).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from catalog.updater import file_sha1
from catalog.views import VIEW, render_views, view_numbers
from engine.curation.catalogue_files import ImageFiles
from engine.embedding import EmbeddingConfig, make_embedder
from engine.embedding.head import fits, load_head
from engine.images import ImageLoadError, load_image
from engine.index.backends import index_class
from engine.index.manifest import IndexMismatchError
from engine.index.protocol import VectorIndex

LOSSY_CODECS = ("SQ", "PQ", "RQ", "LSH", "ITQ")  # factory parts whose stored vectors are approximations


def reembed_index(
    source_dir: str | Path,
    out_dir: str | Path,
    head_path: str | Path,
    backend: str | None = None,
    progress: bool = True,
) -> VectorIndex:
    """Write `out_dir`: the index at `source_dir` (built without a head) with every vector mapped by the head.

    The manifest's embedding config gains the head's path and sha256, so `engine.load(out_dir)` embeds queries
    with the same head and refuses any other. Raises `IndexMismatchError` when the source already has a head
    or was built with another base embedding than the head's, or when it stores compressed vectors (the head
    needs the exact base vectors). The index type is kept when it was chosen explicitly; `backend` is the
    index backend ("faiss" or "milvus"; default: the setting).
    """
    started = time.perf_counter()
    cls = index_class(backend)
    source = cls.load(source_dir)
    if any(codec in source.factory for codec in LOSSY_CODECS):
        raise IndexMismatchError(
            f"'{source_dir}' stores compressed vectors ({source.factory}); a head needs the exact base vectors. "
            "Rebuild the base index with --index-factory Flat, or build with --head."
        )
    built = EmbeddingConfig.from_dict(source.manifest["embedding"])
    if built.head:
        raise IndexMismatchError(f"'{source_dir}' already has a head ({built.head}); re-embed its base index.")
    config = built.with_head(head_path)
    head = load_head(config.head, config.head_sha256)
    if not fits(head.base, built):
        raise IndexMismatchError(
            f"Head '{head_path}' was trained on {head.base}, but '{source_dir}' holds {built.name}."
        )
    vectors = head.apply(base_vectors(source, source_dir, config, head, progress))
    manifest = {
        **source.manifest,
        "embedding": config.to_dict(),
        "dim": head.dim,
        "head": {
            "path": config.head,
            "sha256": head.sha256,
            "loss": head.trained.get("config", {}).get("loss"),
            "tail_start": None if head.tail is None else head.tail.start,  # fine-tuned network stages, if any
        },
        "base_index": str(Path(source_dir).resolve()),
        "reembed_seconds": round(time.perf_counter() - started, 2),
    }
    explicit = None if source.manifest.get("index_auto", True) else source.factory  # an explicit choice sticks
    params = source.manifest.get("index", {}).get("params")
    index = cls.from_vectors(vectors, source.meta.reset_index(drop=True), manifest, explicit, params)
    index.save(out_dir)
    return index


def base_vectors(source: VectorIndex, source_dir, config: EmbeddingConfig, head, progress: bool) -> np.ndarray:
    """The head's inputs: the stored base vectors, or fresh ones from the photos for a head with a network tail."""
    if head.tail is None:
        return source.vectors(source.meta["id"].to_numpy(np.int64))
    return photo_vectors(source, source_dir, make_embedder(config).base, progress)


def photo_vectors(source: VectorIndex, source_dir: str | Path, base, progress: bool = True) -> np.ndarray:
    """(N, D) base vectors of every entry, in `source.meta` order, from its photo and box by `base.embed_crops`."""
    files = ImageFiles.of_index(source.manifest["images_root"], source_dir)
    meta = source.meta.reset_index(drop=True)
    numbers = view_numbers(meta)  # row -> which view of its photo a gallery-view row is
    out = np.zeros((len(meta), base.dim), dtype=np.float32)
    for image, rows in tqdm(meta.groupby("image", sort=False), desc="Re-embedding photos", disable=not progress):
        path = files.path(image)  # OutsideCatalogueError for a name that leads out of the catalogue's folders
        if file_sha1(path) != rows["content_hash"].iloc[0]:
            raise IndexMismatchError(f"The photo '{image}' changed since '{source_dir}' was built; rebuild it.")
        try:
            photo = load_image(path)
        except ImageLoadError as err:
            raise IndexMismatchError(f"Cannot read the photo '{image}' of '{source_dir}': {err}") from err
        photos, boxes = entry_crops(photo, rows, numbers)
        out[rows.index.to_numpy()] = base.embed_crops(photos, boxes)
    return out


def entry_crops(photo, rows, numbers) -> tuple[list, list]:
    """(images, boxes) to embed for a photo's entries: the photo and its box, or a gallery view's rendering."""
    photos, boxes = [photo] * len(rows), list(rows[["x0", "y0", "x1", "y1"]].to_numpy(np.float32))
    views = np.flatnonzero((rows["kind"] == VIEW).to_numpy())  # positions of the gallery-view rows
    if len(views):  # the photo is cut out once for all its views
        content_hash = rows["content_hash"].iloc[views[0]]
        rendered = render_views(photo, content_hash, [int(numbers[rows.index[i]]) for i in views])
        for i, image, box in zip(views, *rendered):
            photos[i], boxes[i] = image, box
    return photos, boxes
