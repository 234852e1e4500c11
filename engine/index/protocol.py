"""`VectorIndex`: the one interface every catalogue index implements (FAISS files, binary codes, Milvus).

Vectors have stable int64 ids; `meta` holds one row per live id (column `id`) with the product's fields;
`manifest` records how the index was built (`engine.index.manifest.Manifest`). Numpy in, numpy out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from engine.index.manifest import Manifest


@runtime_checkable
class VectorIndex(Protocol):
    """A catalogue index: search, read rows back, change in place, commit a version."""

    manifest: Manifest
    pushes_filters: bool  # True: `search(..., filter=expression)` applies product filters inside the search

    @property
    def meta(self) -> pd.DataFrame:
        """One row per live id, indexed by id."""
        ...

    @property
    def dim(self) -> int:
        """Vector width D."""
        ...

    @property
    def factory(self) -> str:
        """The index type as a FAISS factory string (e.g. "Flat", "HNSW32,SQ8", "ITQ256")."""
        ...

    @property
    def next_id(self) -> int:
        """The first id never used."""
        ...

    @property
    def tombstone_fraction(self) -> float:
        """Share of removed vectors still taking space (compaction drops them)."""
        ...

    def __len__(self) -> int: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(Q, D) unit queries -> (Q, k) cosine scores and (Q, k) ids, best first; missing hits have id -1."""
        ...

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Stored (N, D) vectors of the given ids (decoded: approximate for compressed indexes)."""
        ...

    def rows(self, ids: np.ndarray, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Metadata rows of the given ids, in that order; only `columns` (those it has) when given."""
        ...

    def add(self, vectors: np.ndarray, meta: pd.DataFrame) -> None:
        """Add (N, D) vectors whose rows (with new ids) are `meta`."""
        ...

    def remove(self, ids: np.ndarray) -> None:
        """Remove the given ids."""
        ...

    def replace_meta(self, meta: pd.DataFrame) -> None:
        """New metadata for the same ids (product fields changed, vectors not)."""
        ...

    def set_params(self, params: dict) -> None:
        """Override search-time parameters (efSearch, nprobe, …)."""
        ...

    def compact(self, retrain: bool = False, factory: str | None = None, params: dict | None = None) -> None:
        """Rebuild the vector index from the stored vectors, dropping tombstones."""
        ...

    def save(self, index_dir: str | Path) -> Path | str:
        """Commit the current state as the new live version, atomically."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
