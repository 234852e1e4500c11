"""Re-embedding an index with a head: the stored base vectors go through the head; no image is read again."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from engine.embedding import EmbeddingConfig
from engine.embedding.head import load_head
from engine.index.backends import index_class
from engine.index.manifest import IndexMismatchError
from engine.index.protocol import VectorIndex

LOSSY_CODECS = ("SQ", "PQ", "RQ", "LSH", "ITQ")  # factory parts whose stored vectors are approximations


def reembed_index(
    source_dir: str | Path, out_dir: str | Path, head_path: str | Path, backend: str | None = None
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
    if head.base.get("name") != built.name or head.base.get("crop_size", built.crop_size) != built.crop_size:
        raise IndexMismatchError(
            f"Head '{head_path}' was trained on {head.base}, but '{source_dir}' holds {built.name}."
        )
    ids = source.meta["id"].to_numpy(np.int64)
    vectors = head.apply(source.vectors(ids))
    manifest = {
        **source.manifest,
        "embedding": config.to_dict(),
        "dim": head.dim,
        "head": {"path": config.head, "sha256": head.sha256, "loss": head.trained.get("config", {}).get("loss")},
        "base_index": str(Path(source_dir).resolve()),
        "reembed_seconds": round(time.perf_counter() - started, 2),
    }
    explicit = None if source.manifest.get("index_auto", True) else source.factory  # an explicit choice sticks
    params = source.manifest.get("index", {}).get("params")
    index = cls.from_vectors(vectors, source.meta.reset_index(drop=True), manifest, explicit, params)
    index.save(out_dir)
    return index
