"""Near-duplicate products: pairs whose one-vector-per-product representations are at least `threshold` alike.

Each product is represented by the vector search uses for "products like this one" (its whole-image entry, else
its first object; `Lookalike.product_vector`). A k-nearest-neighbour self-search over those vectors (exact FAISS
inner product, in blocks of queries) finds, for every product, its `k` most similar other products; the pairs
at or above the threshold are kept once each. Memory is bounded by products × k, whatever the threshold.
"""

from __future__ import annotations

import faiss
import numpy as np
import pandas as pd

from engine.search.rerank import product_entry

DEFAULT_K = 10  # neighbours looked at per product: more near-duplicates than this per product is a bigger problem
BLOCK = 4096  # queries per FAISS call


def product_vectors(index) -> tuple[np.ndarray, np.ndarray]:
    """(product ids, (P, D) float32 vectors): the vector each product's "More like this" searches with
    (`product_entry`: its curated box, else its main object, else its photo), products sorted by id."""
    meta = index.meta
    if meta.empty:
        return np.array([], dtype=object), np.zeros((0, index.dim), dtype=np.float32)
    entries = {str(product): product_entry(rows) for product, rows in meta.groupby("product_id", sort=True)}
    vectors = index.vectors(np.fromiter(entries.values(), dtype=np.int64, count=len(entries)))
    return np.array(list(entries), dtype=object), np.asarray(vectors, dtype=np.float32)


def near_duplicate_pairs(vectors: np.ndarray, threshold: float, k: int = DEFAULT_K) -> np.ndarray:
    """(M, 3) rows (i, j, score) with i < j, score = cosine of rows i and j of `vectors` ≥ `threshold`.

    A pair is found when j is among i's `k` nearest other rows or i among j's. Sorted by decreasing score,
    then i, then j. `vectors` are unit rows (P, D); duplicate rows are fine (both orders collapse to i < j).
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    count = len(vectors)
    if count < 2 or k < 1:
        return np.zeros((0, 3))
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    fetch = min(count, k + 1)  # + 1: a row finds itself (or an identical row) among its neighbours
    found = []
    for start in range(0, count, BLOCK):
        scores, ids = flat.search(vectors[start : start + BLOCK], fetch)
        rows = np.repeat(np.arange(start, start + len(ids)), fetch)
        found.append(_keep(rows, ids.reshape(-1), scores.reshape(-1), threshold, k))
    pairs = np.concatenate(found) if found else np.zeros((0, 3))
    return _unique_sorted(pairs)


def _keep(rows: np.ndarray, ids: np.ndarray, scores: np.ndarray, threshold: float, k: int) -> np.ndarray:
    """The (i, j, score) hits of a block that are other rows (at most k per query row) at or above threshold."""
    other = (ids >= 0) & (ids != rows)
    rows, ids, scores = rows[other], ids[other], scores[other]
    _, first = np.unique(rows, return_index=True)
    position = np.arange(len(rows)) - np.repeat(first, np.diff(np.append(first, len(rows))))
    keep = (position < k) & (scores >= threshold)
    low, high = np.minimum(rows, ids)[keep], np.maximum(rows, ids)[keep]
    return np.stack([low, high, scores[keep]], axis=1).astype(np.float64)


def _unique_sorted(pairs: np.ndarray) -> np.ndarray:
    """One row per (i, j) (the higher score of the two directions), best first."""
    if not len(pairs):
        return np.zeros((0, 3))
    order = np.lexsort((-pairs[:, 2], pairs[:, 1], pairs[:, 0]))
    pairs = pairs[order]
    first = np.ones(len(pairs), dtype=bool)
    first[1:] = (pairs[1:, 0] != pairs[:-1, 0]) | (pairs[1:, 1] != pairs[:-1, 1])
    pairs = pairs[first]
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0], -pairs[:, 2]))]


def near_duplicates(index, threshold: float, k: int = DEFAULT_K, limit: int | None = None) -> pd.DataFrame:
    """Near-duplicate product pairs of a catalogue index, best first: columns `product_a`, `product_b`, `score`.

    `index` is a loaded catalogue index (FAISS or Milvus); `limit` keeps the best pairs only.
    """
    ids, vectors = product_vectors(index)
    pairs = near_duplicate_pairs(vectors, threshold, k)[:limit]
    return pd.DataFrame(
        {
            "product_a": ids[pairs[:, 0].astype(int)] if len(pairs) else [],
            "product_b": ids[pairs[:, 1].astype(int)] if len(pairs) else [],
            "score": pairs[:, 2],
        }
    )
