"""The catalogue index on disk: FAISS vectors, Parquet metadata and a JSON manifest, committed atomically.

Layout of an index directory::

    INDEX_DIR/CURRENT                      name of the live version folder (replaced atomically)
    INDEX_DIR/v<time>-<host>-<pid>/index.faiss     (+ tombstones.npy, codes.faissb, itq.faisst by index type)
    INDEX_DIR/v<time>-<host>-<pid>/meta.parquet
    INDEX_DIR/v<time>-<host>-<pid>/manifest.json
    INDEX_DIR/.lock                        held by writers (`writer_lock`), never by readers

A save writes a complete new version folder (`*.partial` until it is complete and flushed), then swaps CURRENT
with `os.replace`; a crash or kill at any point leaves the previous version live. Later saves delete the
partial folders of writers that died, and all but the last `KEEP_VERSIONS` versions.

The vectors live in an `engine.index.ann.AnnIndex`: exact `Flat` for small catalogues, IVF with SQ8 codes above
`FLAT_MAX_VECTORS`, or any FAISS factory string; vectors can be added and removed without a rebuild.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from engine.files import file_lock, pid_alive
from engine.index.ann import INDEX_FILE, AnnIndex, FaissAnn
from engine.index.binary import BinaryAnn
from engine.index.factories import choose_factory
from engine.index.manifest import Manifest, manifest_json, refreshed

KEEP_VERSIONS = 2
POINTER = "CURRENT"
LOCK = ".lock"
MMAP_MIN_BYTES = 256 * 2**20  # `load(mmap=None)` maps index files at least this big
STALE_PARTIAL_SECONDS = 3600  # partial folders of other hosts' writers are removed after this long
LEGACY_INFO = {"kind": "FaissAnn", "factory": "Flat", "params": {}}  # format 1: IndexIDMap2(IndexFlatIP)


class IndexBusyError(TimeoutError):
    """The index's writer lock stayed taken (a build or another edit is writing it) for as long as asked."""


class IndexNotFoundError(FileNotFoundError):
    """No built index at the given directory."""


@dataclass
class CatalogIndex:
    """Vectors with stable int64 ids, one metadata row per live id (column `id`), and the manifest.

    `index` is an `engine.index.ann.AnnIndex` (exact or approximate, see `from_vectors`). `add` and `remove` change
    it in place without a rebuild; `save` commits the result as a new version. An index loaded with `mmap`
    is read-only.
    """

    index: AnnIndex
    meta: pd.DataFrame
    manifest: Manifest = field(default_factory=Manifest)
    read_only: bool = False
    pushes_filters: ClassVar[bool] = False  # product filters are applied after the vector search

    def __post_init__(self) -> None:
        self.meta = self.meta.set_index("id", drop=False).rename_axis(None)

    @classmethod
    def from_vectors(
        cls, vectors: np.ndarray, meta: pd.DataFrame, manifest: dict, factory: str | None = None, params=None
    ) -> CatalogIndex:
        """Index (N, D) unit vectors; `meta` has N rows in the same order and an int64 `id` column.

        `factory` is a FAISS `index_factory` string (inner product), or `"ITQ<bits>,B…"` for binary codes;
        None picks by size with `engine.index.factories.choose_factory` (exact `Flat` for small catalogues). `params`
        override the search-time defaults (`efSearch`, `nprobe`, `rerank`); both are kept in the manifest.
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(vectors) != len(meta):
            raise ValueError(f"{len(vectors)} vectors but {len(meta)} metadata rows")
        vectors = vectors.reshape(len(meta), int(manifest["dim"]))
        ids = meta["id"].to_numpy(np.int64)
        ann = build_ann(factory or choose_factory(len(vectors)), vectors, ids, params)
        made = cls(ann, meta, {**manifest, "index_auto": factory is None})
        made.manifest["max_id"] = int(ids.max()) if len(ids) else -1
        made._refresh_manifest()
        return made

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self.index.d)

    @property
    def factory(self) -> str:
        """The FAISS factory string of the vector index."""
        return self.index.factory

    @property
    def next_id(self) -> int:
        """The smallest id never used by this index (removed ids are not reused)."""
        return max(int(self.manifest.get("max_id", -1)), int(self.meta["id"].max()) if len(self.meta) else -1) + 1

    def __len__(self) -> int:
        return int(self.index.live)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(Q, D) queries -> (Q, k) cosine scores and (Q, k) ids; missing hits have id -1."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        return self.index.search(queries, max(1, min(k, max(len(self), 1))))

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Stored (N, D) vectors for the given ids (decoded, so approximate for SQ/PQ/IVF-PQ indexes)."""
        return self.index.reconstruct(ids)

    def rows(self, ids: np.ndarray, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Metadata rows for ids, in the order given; only `columns` (those the metadata has) when given."""
        ids = np.asarray(ids, dtype=np.int64)
        if columns is None:
            return self.meta.loc[ids]
        return self.meta.loc[ids, [c for c in columns if c in self.meta.columns]]

    def add(self, vectors: np.ndarray, meta: pd.DataFrame) -> None:
        """Add (N, D) vectors with their N metadata rows (new, unused ids) without rebuilding the index."""
        self._check_writable()
        if not len(meta):
            return
        ids = meta["id"].to_numpy(np.int64)
        if len(ids) != len(np.unique(ids)) or np.isin(ids, self.meta["id"].to_numpy(np.int64)).any():
            raise ValueError("add() needs new, distinct ids (see next_id)")
        self.index.add(np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim), ids)
        frame = meta if not len(self.meta) else pd.concat([self.meta, meta], ignore_index=True)
        self.meta = frame.astype({"id": np.int64}).set_index("id", drop=False).rename_axis(None)
        self.manifest["max_id"] = max(self.next_id - 1, int(ids.max()))
        self._refresh_manifest()

    def remove(self, ids: np.ndarray) -> None:
        """Remove ids (unknown ones are ignored): deleted where FAISS can, tombstoned for HNSW."""
        self._check_writable()
        ids = np.intersect1d(np.asarray(ids, dtype=np.int64), self.meta["id"].to_numpy(np.int64))
        self.index.remove(ids)
        self.meta = self.meta.drop(index=ids)
        self._refresh_manifest()

    def replace_meta(self, meta: pd.DataFrame) -> None:
        """New metadata (e.g. refreshed product columns) for exactly the same live ids."""
        if set(meta["id"]) != set(self.meta["id"]) or len(meta) != len(self.meta):
            raise ValueError("replace_meta() must keep the same ids")
        self.meta = meta.astype({"id": np.int64}).set_index("id", drop=False).rename_axis(None)

    @property
    def tombstone_fraction(self) -> float:
        """Share of stored vectors that are removed but not yet compacted away."""
        return len(self.index.tombstones) / self.index.ntotal if self.index.ntotal else 0.0

    def compact(self, retrain: bool = False, factory: str | None = None, params: dict | None = None) -> None:
        """Rebuild the vector index from the live vectors: drops tombstones; `retrain` re-learns the codecs.

        A new `factory` switches the index type, rebuilding from the stored (decoded) vectors; `params`
        override search-time parameters.
        """
        self._check_writable()
        ids = self.meta["id"].to_numpy(np.int64)
        if factory and factory != self.factory:
            self.index = build_ann(factory, self.index.reconstruct(ids), ids, params)
            self.manifest["index_auto"] = False
        else:
            self.index = self.index.rebuilt(ids, retrain)
            self.index.params.update(params or {})
            self.index.apply_params()
        self._refresh_manifest()

    def save(self, index_dir: str | Path) -> Path:
        """Write a new version folder and atomically make it current; returns the version folder."""
        root = Path(index_dir)
        root.mkdir(parents=True, exist_ok=True)
        now = time.time_ns()
        stamp = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime(now / 1e9))}.{now % 10**9:09d}"
        version = root / f"v{stamp}-{_host()}-{os.getpid()}"
        staging = version.with_name(version.name + ".partial")
        staging.mkdir()
        self._refresh_manifest()
        self.index.write(staging)
        self.meta.to_parquet(staging / "meta.parquet", index=False)
        (staging / "manifest.json").write_text(manifest_json(self.manifest))
        _fsync_dir(staging)
        os.replace(staging, version)
        pointer_tmp = root / f".{POINTER}.{_host()}-{os.getpid()}.tmp"
        pointer_tmp.write_text(version.name)
        os.replace(pointer_tmp, root / POINTER)  # the commit point
        _fsync_dir(root)
        _prune(root, keep=version.name)
        return version

    @classmethod
    def load(cls, index_dir: str | Path, mmap: bool | None = False) -> CatalogIndex:
        """Load the current version; raises `IndexNotFoundError` with build instructions when absent.

        `mmap=True` maps the index files read-only instead of copying them into the process, so app
        processes on one machine share one copy in the page cache; None maps when the vector file is at
        least `MMAP_MIN_BYTES`. A mapped index cannot be changed (`add`/`remove` raise).
        """
        version = current_version(index_dir)
        manifest = json.loads((version / "manifest.json").read_text())
        if mmap is None:
            mmap = (version / INDEX_FILE).stat().st_size >= MMAP_MIN_BYTES
        index = read_ann(version, manifest.get("index", LEGACY_INFO), mmap=bool(mmap))
        meta = pd.read_parquet(version / "meta.parquet")
        return cls(index, meta, manifest, read_only=bool(mmap))

    def set_params(self, params: dict) -> None:
        """Override search-time parameters (efSearch, nprobe, …) and apply them now."""
        self.index.params.update(params)
        self.index.apply_params()

    def close(self) -> None:
        """Nothing to release for files (the Milvus backend closes its connection)."""

    def _check_writable(self) -> None:
        """Refuse to change a memory-mapped index (FAISS would abort the process)."""
        if self.read_only:
            raise PermissionError("this index was loaded with mmap (read-only); load it with mmap=False to change it")

    def _refresh_manifest(self) -> None:
        """Keep the manifest's counts and index description in step with the contents."""
        refreshed(self.manifest, len(self), self.index.info(), self.index.factory)


@contextlib.contextmanager
def writer_lock(index_dir: str | Path, timeout: float | None = None):
    """Hold the index directory's writer lock: one build, update or compaction at a time.

    Waits until it is free, or at most `timeout` seconds, then raises `IndexBusyError`."""
    root = Path(index_dir)
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(file_lock(root / LOCK, timeout))
        except TimeoutError as err:
            raise IndexBusyError(f"Another process is writing the index at '{root}'.") from err
        yield root


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
    """Delete the partial folders of dead writers and all but the newest `KEEP_VERSIONS` versions."""
    versions = sorted(p for p in root.glob("v*") if p.is_dir() and not p.name.endswith(".partial"))
    for old in versions[:-KEEP_VERSIONS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for partial in root.glob("v*.partial"):
        if _abandoned(partial.name.removesuffix(".partial"), partial):
            shutil.rmtree(partial, ignore_errors=True)
    for pointer_tmp in root.glob(f".{POINTER}.*.tmp"):
        if _abandoned(pointer_tmp.name.removesuffix(".tmp"), pointer_tmp):
            pointer_tmp.unlink(missing_ok=True)


def _abandoned(name: str, path: Path) -> bool:
    """True when the writer named in `...-<host>-<pid>` is dead (same host) or the file is over an hour old."""
    writer, _, pid = name.rpartition("-")
    if writer.endswith("-" + _host()) or writer.endswith("." + _host()):
        return not (pid.isdigit() and pid_alive(int(pid)))
    try:
        return path.stat().st_mtime < time.time() - STALE_PARTIAL_SECONDS
    except FileNotFoundError:
        return False


def _host() -> str:
    """This machine's name, safe for a folder name."""
    return "".join(c if c.isalnum() else "_" for c in socket.gethostname()) or "host"


def build_ann(factory: str, vectors, ids, params: dict | None = None, seed: int = 0) -> AnnIndex:
    """Build the index a factory string names (binary-code factories start with `ITQ`)."""
    if factory.startswith("ITQ"):
        return BinaryAnn.build(factory, vectors, ids, params, seed)
    return FaissAnn.build(factory, vectors, ids, params, seed)


def read_ann(folder: Path, info: dict, mmap: bool = False) -> AnnIndex:
    """Load the index a manifest's `index` section describes from a version folder."""
    if info.get("kind") == "BinaryAnn":
        return BinaryAnn.read(folder, info, mmap)
    return FaissAnn.read(folder, info, mmap)
