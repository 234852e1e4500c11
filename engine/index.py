"""The catalogue index on disk: FAISS vectors, Parquet metadata and a JSON manifest, committed atomically.

Layout of an index directory::

    INDEX_DIR/CURRENT              name of the live version folder (replaced atomically)
    INDEX_DIR/v<time>-<pid>/index.faiss
    INDEX_DIR/v<time>-<pid>/meta.parquet
    INDEX_DIR/v<time>-<pid>/manifest.json

A save writes a complete new version folder, then swaps CURRENT with `os.replace`; a crash at any point
leaves the previous version live. Old versions beyond the last `KEEP_VERSIONS` are pruned.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np
import pandas as pd

FORMAT_VERSION = 1
KEEP_VERSIONS = 2
POINTER = "CURRENT"


class IndexNotFoundError(FileNotFoundError):
    """No built index at the given directory."""


class IndexMismatchError(ValueError):
    """The index was built with other weights or another embedding config than the ones in use."""


@dataclass
class CatalogIndex:
    """Vectors with stable int64 ids, one metadata row per id (column `id`), and the manifest."""

    index: faiss.Index  # IndexIDMap2 over an inner-product index
    meta: pd.DataFrame
    manifest: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.meta = self.meta.set_index("id", drop=False).rename_axis(None)

    @classmethod
    def from_vectors(cls, vectors: np.ndarray, meta: pd.DataFrame, manifest: dict) -> CatalogIndex:
        """Index (N, D) unit vectors; `meta` has N rows in the same order and an int64 `id` column."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(vectors) != len(meta):
            raise ValueError(f"{len(vectors)} vectors but {len(meta)} metadata rows")
        dim = int(manifest["dim"])
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        if len(vectors):
            index.add_with_ids(vectors, meta["id"].to_numpy(np.int64))
        manifest = {**manifest, "format": FORMAT_VERSION, "n_vectors": int(index.ntotal)}
        return cls(index, meta, manifest)

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self.index.d)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(Q, D) queries -> (Q, k) cosine scores and (Q, k) ids; missing hits have id -1."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        return self.index.search(queries, max(1, min(k, max(len(self), 1))))

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Stored (N, D) vectors for the given ids."""
        return np.stack([self.index.reconstruct(int(i)) for i in ids]) if len(ids) else np.zeros((0, self.dim))

    def rows(self, ids: np.ndarray) -> pd.DataFrame:
        """Metadata rows for ids, in the order given."""
        return self.meta.loc[np.asarray(ids, dtype=np.int64)]

    def save(self, index_dir: str | Path) -> Path:
        """Write a new version folder and atomically make it current; returns the version folder."""
        root = Path(index_dir)
        root.mkdir(parents=True, exist_ok=True)
        now = time.time_ns()
        version = root / f"v{time.strftime('%Y%m%dT%H%M%S', time.gmtime(now / 1e9))}.{now % 10**9:09d}-{os.getpid()}"
        staging = version.with_name(version.name + ".partial")
        staging.mkdir()
        faiss.write_index(self.index, str(staging / "index.faiss"))
        self.meta.to_parquet(staging / "meta.parquet", index=False)
        (staging / "manifest.json").write_text(json.dumps(self.manifest, indent=2, default=str))
        _fsync_dir(staging)
        os.replace(staging, version)
        pointer_tmp = root / f".{POINTER}.{os.getpid()}.tmp"
        pointer_tmp.write_text(version.name)
        os.replace(pointer_tmp, root / POINTER)  # the commit point
        _fsync_dir(root)
        _prune(root, keep=version.name)
        return version

    @classmethod
    def load(cls, index_dir: str | Path, mmap: bool = False) -> CatalogIndex:
        """Load the current version; raises `IndexNotFoundError` with build instructions when absent."""
        version = current_version(index_dir)
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        index = faiss.read_index(str(version / "index.faiss"), flags)
        meta = pd.read_parquet(version / "meta.parquet")
        manifest = json.loads((version / "manifest.json").read_text())
        return cls(index, meta, manifest)


def current_version(index_dir: str | Path) -> Path:
    """The live version folder of an index directory."""
    root = Path(index_dir)
    pointer = root / POINTER
    if not pointer.is_file():
        raise IndexNotFoundError(
            f"No catalogue index at '{root}'. Build one with:\n"
            f"  python scripts/build_catalog.py --images DIR --products CSV --out {root}\n"
            f"or the demo catalogue with:  python scripts/build_catalog.py --demo --out {root}"
        )
    version = root / pointer.read_text().strip()
    if not (version / "manifest.json").is_file():
        raise IndexNotFoundError(f"Index pointer in '{root}' names a missing version '{version.name}'.")
    return version


def read_manifest(index_dir: str | Path) -> dict:
    """The manifest of the live version, without loading vectors."""
    return json.loads((current_version(index_dir) / "manifest.json").read_text())


def check_compatible(manifest: dict, weights_sha256: str, embedding: dict) -> None:
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


def _fsync_dir(path: Path) -> None:
    """Flush a directory's entries (and its files) to disk so a rename cannot outrun the data."""
    for child in path.iterdir():
        if child.is_file():
            with open(child, "rb") as handle:
                os.fsync(handle.fileno())
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune(root: Path, keep: str) -> None:
    """Delete stale partial folders and all but the newest `KEEP_VERSIONS` versions."""
    versions = sorted(p for p in root.glob("v*") if p.is_dir() and not p.name.endswith(".partial"))
    for old in versions[:-KEEP_VERSIONS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for partial in root.glob("v*.partial"):
        if partial.stat().st_mtime < time.time() - 3600:
            shutil.rmtree(partial, ignore_errors=True)
