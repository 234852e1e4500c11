"""Binary codes: an ITQ-learned hash searched by Hamming distance, candidates re-ranked with the float vectors.

Factory strings `"ITQ<bits>,<binary factory>"`, e.g. `"ITQ256,BFlat"` (exhaustive Hamming scan) or
`"ITQ256,BHNSW32"` (graph over codes). `bits` must be a multiple of 8 and at most the vector dimension. A
version folder holds `itq.faisst` (the PCA + rotation), `codes.faissb` (the binary index) and `index.faiss` (an
`IndexIDMap2(IndexFlatIP)` of the float vectors, used to re-rank `rerank * k` candidates and to reconstruct).
Loaded with mmap, the float store stays on disk and only the candidates' pages are read.
"""

from __future__ import annotations

import re
from pathlib import Path

import faiss
import numpy as np

from engine.index.ann import INDEX_FILE, TOMBSTONE_FILE, AnnIndex, as_ids, as_vectors, omp_threads, training_sample
from engine.index.factories import default_params

ITQ_TRAIN_MAX = 32_768
CODES_FILE = "codes.faissb"
ITQ_FILE = "itq.faisst"


def parse_factory(factory: str) -> tuple[int, str]:
    """`"ITQ256,BHNSW32"` -> (256, "BHNSW32")."""
    match = re.fullmatch(r"ITQ(\d+),(B\w+)", factory)
    if not match or int(match.group(1)) % 8:
        raise ValueError(f"binary factory must look like 'ITQ256,BFlat' (bits a multiple of 8), not '{factory}'")
    return int(match.group(1)), match.group(2)


class BinaryAnn(AnnIndex):
    """ITQ codes in a binary FAISS index plus a float store for exact re-ranking of the Hamming candidates."""

    def __init__(self, itq, codes, floats, factory: str, params: dict, train_size: int = 0, tombstones=None):
        self.itq = itq
        self.codes = codes  # IndexBinaryIDMap2
        self.floats = floats  # IndexIDMap2(IndexFlatIP)
        self.factory = factory
        self.params = dict(params)
        self.train_size = train_size
        self.tombstones = as_ids([] if tombstones is None else tombstones)
        self.apply_params()

    @classmethod
    def build(cls, factory: str, vectors, ids, params: dict | None = None, seed: int = 0) -> BinaryAnn:
        """Learn ITQ on a sample, then add every vector's code and float copy."""
        bits, binary_factory = parse_factory(factory)
        vectors = as_vectors(vectors)
        dim = vectors.shape[1]
        if bits > dim:
            raise ValueError(f"ITQ{bits} needs bits <= the vector dimension ({dim})")
        itq = faiss.ITQTransform(dim, bits, True)
        sample_size = min(len(vectors), max(10 * dim, ITQ_TRAIN_MAX))  # ITQTransform.train's own cap
        with omp_threads(1):  # ITQ's 50 small SVD rounds: far slower with threads on a busy machine
            itq.train(training_sample(vectors, sample_size, seed))
        codes = faiss.IndexBinaryIDMap2(faiss.index_binary_factory(bits, binary_factory))
        floats = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        ann = cls(itq, codes, floats, factory, {**default_params(factory), **(params or {})}, sample_size)
        ann.add(vectors, ids)
        return ann

    @property
    def d(self) -> int:
        return int(self.floats.d)

    @property
    def ntotal(self) -> int:
        return int(self.floats.ntotal)

    def apply_params(self) -> None:
        """Set efSearch, efConstruction (graph of codes) and nprobe on the binary index."""
        inner = faiss.downcast_IndexBinary(self.codes.index)
        for name in ("efSearch", "efConstruction"):
            if name in self.params and hasattr(inner, "hnsw"):
                setattr(inner.hnsw, name, int(self.params[name]))
        if "nprobe" in self.params and hasattr(inner, "nprobe"):
            inner.nprobe = int(self.params["nprobe"])

    def encode(self, vectors) -> np.ndarray:
        """(N, bits/8) packed sign bits of the ITQ projection."""
        return np.packbits(self.itq.apply(as_vectors(vectors)) > 0, axis=1)

    def add(self, vectors, ids) -> None:
        """Add (N, D) vectors under new ids."""
        vectors, ids = as_vectors(vectors), as_ids(ids)
        self._check_new(ids)
        if len(ids):
            self.codes.add_with_ids(self.encode(vectors), ids)
            self.floats.add_with_ids(vectors, ids)

    def remove(self, ids) -> None:
        """Delete from a flat code index; a code graph (BHNSW) keeps them as tombstones until compaction."""
        ids = as_ids(ids)
        if not len(ids):
            return
        if isinstance(faiss.downcast_IndexBinary(self.codes.index), faiss.IndexBinaryFlat):
            self.codes.remove_ids(faiss.IDSelectorBatch(ids))
            self.floats.remove_ids(faiss.IDSelectorBatch(ids))
        else:
            self._bury(ids)

    def search(self, queries, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Hamming top `rerank * k` candidates, re-scored by exact inner product; (Q, k) scores and ids."""
        queries = as_vectors(queries)
        wanted = k * int(self.params.get("rerank", 10)) + len(self.tombstones)
        _, candidates = self.codes.search(self.encode(queries), max(k, min(self.ntotal, wanted)))  # (Q, C)
        valid = (candidates >= 0) & ~np.isin(candidates, self.tombstones)  # (Q, C)
        unique = np.unique(candidates[valid])  # (U,) every candidate's float vector is read once
        if not len(unique):
            return np.full((len(queries), k), -np.inf, dtype=np.float32), np.full((len(queries), k), -1, np.int64)
        exact = queries @ self.floats.reconstruct_batch(unique).T  # (Q, U) exact inner products
        where = np.searchsorted(unique, np.where(valid, candidates, unique[0]))  # (Q, C) column of each candidate
        scores = np.where(valid, np.take_along_axis(exact, where, axis=1), -np.inf).astype(np.float32)  # (Q, C)
        best = np.argsort(-scores, axis=1, kind="stable")[:, :k]  # (Q, k), Hamming order breaks ties
        scores, ids = np.take_along_axis(scores, best, axis=1), np.take_along_axis(candidates, best, axis=1)
        ids = np.where(np.isfinite(scores), ids, -1)
        return _padded(scores, k, -np.inf, np.float32), _padded(ids, k, -1, np.int64)

    def reconstruct(self, ids) -> np.ndarray:
        """Stored float vectors for ids."""
        ids = as_ids(ids)
        return self.floats.reconstruct_batch(ids) if len(ids) else np.zeros((0, self.d), dtype=np.float32)

    def write(self, folder: Path) -> None:
        """Write the float store, the codes, the ITQ transform and any tombstones into a version folder."""
        faiss.write_index(self.floats, str(folder / INDEX_FILE))
        faiss.write_index_binary(self.codes, str(folder / CODES_FILE))
        faiss.write_VectorTransform(self.itq, str(folder / ITQ_FILE))
        if len(self.tombstones):
            np.save(folder / TOMBSTONE_FILE, self.tombstones)

    @classmethod
    def read(cls, folder: Path, info: dict, mmap: bool = False) -> BinaryAnn:
        """Load from a version folder; `mmap` maps codes and float store read-only."""
        flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if mmap else 0
        floats = faiss.read_index(str(folder / INDEX_FILE), flags)
        codes = faiss.read_index_binary(str(folder / CODES_FILE), flags)
        itq = faiss.read_VectorTransform(str(folder / ITQ_FILE))
        tombstones = np.load(folder / TOMBSTONE_FILE) if (folder / TOMBSTONE_FILE).is_file() else None
        return cls(itq, codes, floats, info["factory"], info.get("params", {}), info.get("train_size", 0), tombstones)

    def rebuilt(self, live_ids, retrain: bool = False) -> BinaryAnn:
        """A compacted copy holding only `live_ids`; `retrain` re-learns the ITQ rotation."""
        ids = as_ids(live_ids)
        vectors = self.reconstruct(ids)
        if retrain:
            return BinaryAnn.build(self.factory, vectors, ids, self.params)
        bits, binary_factory = parse_factory(self.factory)
        codes = faiss.IndexBinaryIDMap2(faiss.index_binary_factory(bits, binary_factory))
        floats = faiss.IndexIDMap2(faiss.IndexFlatIP(self.d))
        fresh = BinaryAnn(self.itq, codes, floats, self.factory, self.params, self.train_size)
        fresh.add(vectors, ids)
        return fresh


def _padded(values: np.ndarray, k: int, fill, dtype) -> np.ndarray:
    """(Q, c) -> (Q, k), filled on the right when fewer than k candidates came back."""
    out = np.full((len(values), k), fill, dtype=dtype)
    out[:, : values.shape[1]] = values[:, :k]
    return out
