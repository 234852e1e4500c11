"""The index manifest: how an index was built, written beside its vectors and checked before any query.

It is JSON on disk (FAISS: `manifest.json` in each version folder; Milvus: a row beside the collection) and a
typed dict in memory: `Manifest` names every field a reader may use. `new_manifest` is the one place a build
writes it, `refreshed` the one place counts and the index description are kept in step, `manifest_json` the one
serialisation, and `check_compatible` the one check that a query side (weights + embedding) fits an index.
"""

from __future__ import annotations

import json
import time
from typing import Any, NotRequired, TypedDict

FORMAT_VERSION = 2  # 1: a plain IndexIDMap2(IndexFlatIP) without an "index" section


class IndexMismatchError(ValueError):
    """The index was built with other weights or another embedding config than the ones in use."""


class DetectorInfo(TypedDict):
    """The detector a catalogue was embedded with; queries must use the same weights (by sha256)."""

    weights: str  # the name given (a file name or a model yaml)
    weights_path: str
    weights_sha256: str
    config: dict[str, Any]  # engine.detection.DetectorConfig as a dict
    class_names: list[str]
    input: NotRequired[dict[str, Any]]  # the detector's input contract (engine.detection.detector.Detector.contract)


class IndexInfo(TypedDict, total=False):
    """The vector index: its kind and FAISS factory string, search parameters, and backend details."""

    kind: str  # "FaissAnn", "BinaryAnn" or "Milvus"
    factory: str
    params: dict[str, Any]


class Manifest(TypedDict, total=False):
    """Every field of an index manifest; `detector`, `embedding` and `dim` are always present once built."""

    format: int
    built_at: str
    build_seconds: float
    images_root: str
    products_csv: str | None
    detector: DetectorInfo
    embedding: dict[str, Any]  # engine.embedding.EmbeddingConfig.to_dict()
    dim: int
    max_objects: int
    catalog_imgsz: int
    n_images: int
    n_products: int
    n_objects: int
    n_vectors: int
    index: IndexInfo
    index_type: str
    index_auto: bool  # True: the factory was chosen by catalogue size (updates may change it)
    max_id: int  # Milvus: the highest id ever used
    meta_columns: dict[str, str]  # Milvus: metadata column dtypes
    rooms: NotRequired[dict[str, Any]]  # catalog.rooms: the room photos "goes well with" learned from
    head: NotRequired[dict[str, Any]]  # re-embedded indexes: the head's path, sha256 and loss
    base_index: NotRequired[str]
    reembed_seconds: NotRequired[float]


def new_manifest(detector: DetectorInfo, embedding: dict, dim: int, **facts: Any) -> Manifest:
    """A build's manifest: the query-side contract (detector, embedding, dim) plus the build's facts."""
    return Manifest(
        format=FORMAT_VERSION,
        built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        detector=detector,
        embedding=dict(embedding),
        dim=int(dim),
        **facts,
    )


def refreshed(manifest: Manifest, n_vectors: int, index: IndexInfo, factory: str) -> Manifest:
    """The manifest with its vector count and index description brought up to date (in place, and returned)."""
    manifest.update(format=FORMAT_VERSION, n_vectors=int(n_vectors), index=index, index_type=factory)
    return manifest


def manifest_json(manifest: Manifest) -> str:
    """The manifest as the JSON text stored with the index."""
    return json.dumps(manifest, indent=2, default=str)


def check_compatible(manifest: Manifest, weights_sha256: str, embedding: dict) -> None:
    """Refuse an index built with other weights or another embedding config than the query side uses."""
    built = manifest.get("detector", {})
    if built.get("weights_sha256") != weights_sha256:
        raise IndexMismatchError(
            f"The index was built with detector weights '{built.get('weights')}' "
            f"(sha256 {str(built.get('weights_sha256'))[:12]}…), not the weights loaded now "
            f"(sha256 {weights_sha256[:12]}…). Rebuild the index or load the same weights."
        )
    if manifest.get("embedding") != embedding:
        raise IndexMismatchError(
            f"The index was built with embedding config {manifest.get('embedding')}, "
            f"but the app uses {embedding}. Rebuild the index or use the same config."
        )
