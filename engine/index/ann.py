"""Vector indexes behind `CatalogIndex`: index choice by size, FAISS factory strings, add/remove, tombstones, mmap.

Every index here ranks by inner product (the vectors are L2-unit, so this is cosine) and keys vectors by stable
int64 ids. By default (`engine.index.factories.choose_factory`) small catalogues get exact `Flat` search and large
ones an IVF with SQ8 codes; any factory string can be asked for instead. Three families share one interface
(`AnnIndex`):

- IVF factories (`"IVF1024,SQ8"`, `"IVF4096,PQ56"`, `"OPQ56,IVF4096,PQ56"`): the IVF stores the ids itself (a
  hashtable direct map gives `reconstruct` and `remove_ids` with `IDSelectorArray`).
- every other FAISS factory (`"Flat"`, `"HNSW32"`, `"HNSW32,SQ8"`, `"SQ8"`, …) inside `IndexIDMap2`: Flat-like
  indexes remove for real (`IDSelectorBatch`); HNSW cannot, so removed ids become *tombstones*, excluded during
  the graph search with an `IDSelectorNot` and dropped for good by `rebuilt()` (compaction).
- binary codes (`"ITQ256,BFlat"`, `"ITQ256,BHNSW32"`, see `engine.index.binary`): Hamming search, float re-ranking.

Search-time parameters live in the manifest and are applied on every load: any `faiss.ParameterSpace` name
(`efSearch`, `nprobe`, `k_factor_rf` for a refining `…,RFlat` index) for FAISS factories, `rerank` (candidates
per result) and `efSearch` for binary codes. `efConstruction` (HNSW) is a build parameter, kept the same way.
PQ factories should use the `np` suffix (`PQ56np`): without it FAISS also trains polysemous codes, far slower.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import faiss
import numpy as np

from engine.index.factories import default_params, train_size

INDEX_FILE = "index.faiss"
TOMBSTONE_FILE = "tombstones.npy"


def training_sample(vectors: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """A uniform random sample of `size` rows (all rows, in order, when `size` covers them)."""
    if size >= len(vectors):
        return vectors
    rows = np.sort(np.random.default_rng(seed).choice(len(vectors), size, replace=False))
    return vectors[rows]


@contextlib.contextmanager
def omp_threads(count: int):
    """Run FAISS on `count` OpenMP threads inside the block (many small parallel steps thrash on a busy CPU)."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def as_ids(ids) -> np.ndarray:
    """A contiguous int64 id array."""
    return np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))


def as_vectors(vectors) -> np.ndarray:
    """A contiguous (N, D) float32 array."""
    return np.ascontiguousarray(np.atleast_2d(np.asarray(vectors, dtype=np.float32)))


class AnnIndex:
    """Interface shared by the vector indexes: search, add, remove, reconstruct, write, rebuild."""

    factory: str
    params: dict
    train_size: int
    tombstones: np.ndarray  # sorted ids removed logically but still stored (HNSW cannot delete)

    @property
    def d(self) -> int:
        """Vector dimension."""
        raise NotImplementedError

    @property
    def ntotal(self) -> int:
        """Stored vectors, tombstoned ones included."""
        raise NotImplementedError

    @property
    def live(self) -> int:
        """Searchable vectors."""
        return self.ntotal - len(self.tombstones)

    def info(self) -> dict:
        """What the manifest records about this index."""
        return {
            "kind": type(self).__name__,
            "factory": self.factory,
            "metric": "inner_product",
            "params": dict(self.params),
            "train_size": int(self.train_size),
            "ntotal": int(self.ntotal),
            "tombstones": int(len(self.tombstones)),
        }

    def _bury(self, ids: np.ndarray) -> None:
        """Add ids to the tombstone set."""
        self.tombstones = np.union1d(self.tombstones, ids).astype(np.int64)
        self._selector = None

    def _check_new(self, ids: np.ndarray) -> None:
        """Refuse to reuse a tombstoned id (it would stay hidden)."""
        if len(self.tombstones) and np.isin(ids, self.tombstones).any():
            raise ValueError("ids of removed vectors cannot be reused before compaction")


class FaissAnn(AnnIndex):
    """A FAISS float index from a factory string, keyed by ids (IVF natively, anything else via IndexIDMap2)."""

    def __init__(self, index: faiss.Index, factory: str, params: dict, train_size: int = 0, tombstones=None):
        self.index = index
        self.factory = factory
        self.params = dict(params)
        self.train_size = train_size
        self.tombstones = as_ids([] if tombstones is None else tombstones)
        self._selector = None
        self.apply_params()

    @classmethod
    def build(cls, factory: str, vectors, ids, params: dict | None = None, seed: int = 0) -> FaissAnn:
        """Train on a sample (when the factory needs it) and add all vectors with their ids."""
        vectors = as_vectors(vectors)
        index = cls.empty(factory, vectors.shape[1])
        trained = 0
        if not index.is_trained:
            trained = train_size(factory, len(vectors))
            index.train(training_sample(vectors, trained, seed))
        ann = cls(index, factory, {**default_params(factory), **(params or {})}, trained)
        ann.add(vectors, ids)
        return ann

    @staticmethod
    def empty(factory: str, dim: int) -> faiss.Index:
        """An untrained inner-product index for the factory string, wrapped so that it takes ids."""
        index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
        if not _native_ids(index):
            return faiss.IndexIDMap2(index)
        faiss.extract_index_ivf(index).set_direct_map_type(faiss.DirectMap.Hashtable)
        return index

    @property
    def d(self) -> int:
        return int(self.index.d)

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def apply_params(self) -> None:
        """Set the search-time parameters (efSearch, nprobe, k_factor_rf, …) through any wrapper."""
        space = faiss.ParameterSpace()
        for name, value in self.params.items():
            if name == "efConstruction":  # a build parameter: shapes the graph of vectors added from now on
                _hnsw(self.index).efConstruction = int(value)
            else:
                space.set_index_parameter(self.index, name, value)

    def add(self, vectors, ids) -> None:
        """Add (N, D) vectors under new ids."""
        vectors, ids = as_vectors(vectors), as_ids(ids)
        self._check_new(ids)
        if len(ids):
            self.index.add_with_ids(vectors, ids)

    def remove(self, ids) -> None:
        """Delete ids for real where the index can, else tombstone them (HNSW)."""
        ids = as_ids(ids)
        if not len(ids):
            return
        if _native_ids(self.index):
            self.index.remove_ids(faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids)))
        elif _can_remove(self.index):
            self.index.remove_ids(faiss.IDSelectorBatch(ids))
        else:
            self._bury(ids)

    def search(self, queries, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(Q, k) scores and ids, best first; tombstoned ids never appear; missing hits are -1."""
        queries = as_vectors(queries)
        if not len(self.tombstones):
            return self.index.search(queries, k)
        params = self._filtered_params()
        if params is not None:
            return self.index.search(queries, k, params=params)
        scores, ids = self.index.search(queries, min(self.ntotal, k + len(self.tombstones)))
        return _drop(scores, ids, self.tombstones, k)

    def reconstruct(self, ids) -> np.ndarray:
        """Stored (N, D) vectors for ids (decoded: exact for Flat/HNSW-Flat, approximate for SQ/PQ)."""
        ids = as_ids(ids)
        if not len(ids):
            return np.zeros((0, self.d), dtype=np.float32)
        return self.index.reconstruct_batch(ids)

    def write(self, folder: Path) -> None:
        """Write index.faiss (and tombstones.npy when there are any) into a version folder."""
        faiss.write_index(self.index, str(folder / INDEX_FILE))
        if len(self.tombstones):
            np.save(folder / TOMBSTONE_FILE, self.tombstones)

    @classmethod
    def read(cls, folder: Path, info: dict, mmap: bool = False) -> FaissAnn:
        """Load from a version folder; `mmap` maps the codes, graph and lists read-only (IO_FLAG_MMAP_IFC)."""
        flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if mmap else 0
        index = faiss.read_index(str(folder / INDEX_FILE), flags)
        tombstones = np.load(folder / TOMBSTONE_FILE) if (folder / TOMBSTONE_FILE).is_file() else None
        return cls(index, info["factory"], info.get("params", {}), info.get("train_size", 0), tombstones)

    def rebuilt(self, live_ids, retrain: bool = False) -> FaissAnn:
        """A compacted copy holding only `live_ids` (tombstones dropped); `retrain` re-learns the codecs too."""
        ids = as_ids(live_ids)
        vectors = self.reconstruct(ids)
        if retrain or self.train_size == 0:
            return FaissAnn.build(self.factory, vectors, ids, self.params)
        index = faiss.clone_index(self.index)  # keeps the trained quantizers: codes stay identical
        index.reset()
        fresh = FaissAnn(index, self.factory, self.params, self.train_size)
        fresh.add(vectors, ids)
        return fresh

    def _filtered_params(self):
        """Search parameters that exclude the tombstones inside the search, or None when the type has none."""
        inner = faiss.downcast_index(self.index.index) if isinstance(self.index, faiss.IndexIDMap2) else None
        if not isinstance(inner, faiss.IndexHNSW):
            return None
        if self._selector is None:
            batch = faiss.IDSelectorBatch(self.tombstones)
            self._selector = (batch, faiss.IDSelectorNot(batch))  # keep both alive
        params = faiss.SearchParametersHNSW()
        params.efSearch = int(inner.hnsw.efSearch)
        params.sel = self._selector[1]
        return params


def _hnsw(index: faiss.Index):
    """The HNSW graph inside an (ID-mapped) index; ValueError when there is none."""
    inner = faiss.downcast_index(index.index if isinstance(index, faiss.IndexIDMap2) else index)
    if not isinstance(inner, faiss.IndexHNSW):
        raise ValueError("efConstruction applies to HNSW indexes only")
    return inner.hnsw


def _native_ids(index: faiss.Index) -> bool:
    """True for IVF indexes (possibly behind a pre-transform), which store ids themselves."""
    inner = faiss.downcast_index(index)
    if isinstance(inner, faiss.IndexPreTransform):
        inner = faiss.downcast_index(inner.index)
    return isinstance(inner, faiss.IndexIVF)


def _can_remove(index: faiss.Index) -> bool:
    """Whether an IndexIDMap2's inner index supports remove_ids (flat codes do; graphs and refiners do not)."""
    inner = faiss.downcast_index(index.index)
    return isinstance(inner, faiss.IndexFlatCodes)


def _drop(scores: np.ndarray, ids: np.ndarray, tombstones: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Remove tombstoned hits from over-fetched results and keep the best k per row (padded with -1)."""
    out_scores = np.full((len(ids), k), -np.inf, dtype=np.float32)
    out_ids = np.full((len(ids), k), -1, dtype=np.int64)
    for row, (row_scores, row_ids) in enumerate(zip(scores, ids)):
        keep = (row_ids >= 0) & ~np.isin(row_ids, tombstones)
        kept = row_ids[keep][:k]
        out_ids[row, : len(kept)] = kept
        out_scores[row, : len(kept)] = row_scores[keep][:k]
    return out_scores, out_ids
