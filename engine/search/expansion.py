"""Query expansion and re-ranking over products: alpha-QE, database-side augmentation, k-reciprocal re-ranking.

The index holds several entries per product (its photo, its objects, a curated box); a product's similarity to a
vector is its best entry's, and two products' similarity is their best pair of entries'. On that footing:

- `expand_query` (average query expansion, alpha-QE, Radenović et al.): the query becomes the mean of itself and
  its `n` nearest products' best entries, weighted by cosine**alpha, renormalised; it is then searched as usual,
  so the class-steered ranking applies unchanged.
- `augment_vectors` / `augmented_index` (database-side augmentation, DBA): every entry becomes the same weighted
  mean of itself and its `n` nearest other products; a build-time transform, here applied to the stored vectors.
- `KReciprocal` (Zhong et al. 2017, simplified): the candidate pool is re-scored by the weighted Jaccard similarity
  of the query's and each candidate's k-reciprocal sets (products that are each other's k nearest), from
  catalogue-to-catalogue neighbour lists computed once per index object (`neighbour_table`). `search_on_topic`
  applies it to the pool before the class bonus; it re-orders the pool, never drops a product.

Query expansion and k-reciprocal re-scoring are off by default; `engine.search.rerank.RankingConfig` (`expand`,
`reciprocal_k`) turns them on. DBA is measured by `scripts/bench_rerank.py` on an in-memory copy of the index.
"""

from __future__ import annotations

import dataclasses
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.index.store import CatalogIndex
from engine.search.products import Match

CHUNK = 1024  # catalogue vectors searched per batch when building neighbour lists (bounded memory)


def _unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    return (vectors / (np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-12)).astype(np.float32)


def per_index(index, name: str, build):
    """`build()`, kept per index object and `name`; rebuilt when the index's entries or metadata change."""
    key = (len(index), index.next_id, id(index.meta))
    live = _CACHE.get("live")
    if live is None or live[0]() is not index or live[1] != key:
        live = (weakref.ref(index), key, {})  # one live index per process is the rule; never let the cache grow
        _CACHE["live"] = live  # one assignment: a concurrent search sees the old entry or the new one
    if name not in live[2]:
        live[2][name] = build()
    return live[2][name]


_CACHE: dict[str, tuple[weakref.ref, tuple, dict]] = {}


def product_codes(index) -> tuple[pd.Series, np.ndarray]:
    """(entry id -> product code, the product ids in code order) of an index's metadata (cached)."""

    def build():
        codes, products = pd.factorize(index.meta["product_id"].astype(str), sort=True)
        return pd.Series(codes, index=index.meta["id"].to_numpy(np.int64)), np.asarray(products)

    return per_index(index, "codes", build)


def nearest_products(
    index, queries: np.ndarray, n: int, exclude: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each query's `n` nearest distinct products, best first: (entry ids, cosines, product codes), each (Q, n).

    A product is represented by its best entry; `exclude` (Q,) drops one product code per query (its own);
    rows with fewer products are padded with id -1, cosine -inf and code -1.
    """
    queries = np.atleast_2d(queries).astype(np.float32)
    codes = product_codes(index)[0]
    out_ids = np.full((len(queries), n), -1, dtype=np.int64)
    out_sims = np.full((len(queries), n), -np.inf, dtype=np.float32)
    out_codes = np.full((len(queries), n), -1, dtype=np.int64)
    if n <= 0 or len(index) == 0:
        return out_ids, out_sims, out_codes
    fetch = min(len(index), n * 8 + 32)
    for start in range(0, len(queries), CHUNK):
        sims, ids = index.search(queries[start : start + CHUNK], fetch)
        found = np.where(ids >= 0, codes.reindex(ids.ravel()).fillna(-1).to_numpy(np.int64).reshape(ids.shape), -1)
        for row in range(len(ids)):
            own = -2 if exclude is None else int(exclude[start + row])
            keep = (found[row] >= 0) & (found[row] != own)
            _, first = np.unique(found[row][keep], return_index=True)
            first = np.sort(first)[:n]  # each product's best entry, in similarity order
            at = np.flatnonzero(keep)[first]
            out_ids[start + row, : len(at)] = ids[row, at]
            out_sims[start + row, : len(at)] = sims[row, at]
            out_codes[start + row, : len(at)] = found[row, at]
    return out_ids, out_sims, out_codes


def weighted_mean(own: np.ndarray, neighbours: np.ndarray, sims: np.ndarray, alpha: float) -> np.ndarray:
    """Unit mean of (Q, D) vectors (weight 1) and their (Q, n, D) neighbours (weight max(cos, 0)**alpha)."""
    weights = np.where(np.isfinite(sims), np.clip(sims, 0.0, None), 0.0) ** alpha
    return _unit(own + np.einsum("qn,qnd->qd", weights, neighbours))


def expand_query(index, query: np.ndarray, n: int = 3, alpha: float = 3.0) -> np.ndarray:
    """Alpha-QE: a (D,) query -> the (D,) unit mean of itself and its `n` nearest products (weights cos**alpha).

    The neighbours are the whole catalogue's nearest products (filters apply to the search that follows); with
    `n` = 0 the query comes back unchanged, renormalised.
    """
    query = np.asarray(query, dtype=np.float32).reshape(1, -1)
    ids, sims, _ = nearest_products(index, query, n)
    return weighted_mean(query, _vectors_of(index, ids), sims, alpha)[0]


def augment_vectors(index, n: int = 3, alpha: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """DBA: (entry ids, (N, D) unit vectors), each entry the weighted mean of itself and its `n` nearest other
    products' best entries (weights cos**alpha); `n` = 0 leaves the stored vectors as they are."""
    codes, _ = product_codes(index)
    ids = index.meta["id"].to_numpy(np.int64)
    vectors = np.asarray(index.vectors(ids), dtype=np.float32)
    neighbour_ids, sims, _ = nearest_products(index, vectors, n, exclude=codes.loc[ids].to_numpy())
    return ids, weighted_mean(vectors, _vectors_of(index, neighbour_ids), sims, alpha)


def augmented_index(index, n: int = 3, alpha: float = 3.0) -> CatalogIndex:
    """An exact in-memory copy of `index` (same ids, metadata and manifest) with DBA-augmented vectors."""
    ids, vectors = augment_vectors(index, n, alpha)
    meta = index.meta.loc[ids].reset_index(drop=True)
    return CatalogIndex.from_vectors(vectors, meta, dict(index.manifest), factory="Flat")


def _vectors_of(index, ids: np.ndarray) -> np.ndarray:
    """(Q, n, D) stored vectors of a (Q, n) id array; -1 pads give zero vectors."""
    out = np.zeros((*ids.shape, index.dim), dtype=np.float32)
    valid = ids >= 0
    if valid.any():
        out[valid] = index.vectors(ids[valid])
    return out


@dataclass(frozen=True)
class ProductNeighbours:
    """Every catalogue product's `k` nearest other products by best entry pair, best first."""

    products: np.ndarray  # (P,) product ids; a product's code is its position
    ids: np.ndarray  # (P, k) neighbour codes; -1 pads
    sims: np.ndarray  # (P, k) cosines; -inf pads

    def code_of(self, product_ids) -> np.ndarray:
        """Product codes of product ids (-1 for an unknown one)."""
        return pd.Index(self.products).get_indexer(pd.Index(np.asarray(product_ids, dtype=str)))

    def reciprocal(self, codes: np.ndarray, k: int) -> np.ndarray:
        """(C, k) mask: the j-th of each product's k nearest has that product among its own k nearest."""
        near = self.ids[codes, :k]
        back = self.ids[np.where(near >= 0, near, 0), :k]  # (C, k, k)
        return (near >= 0) & (back == np.asarray(codes)[:, None, None]).any(axis=2)


def build_neighbours(index, k: int) -> ProductNeighbours:
    """Each product's `k` nearest other products: the best pair of entries, from the stored vectors (exact when
    the index is; `k` nearest products per entry suffice, since a product's best pair ranks it as high)."""
    codes, products = product_codes(index)
    ids = index.meta["id"].to_numpy(np.int64)
    own = codes.loc[ids].to_numpy()
    _, sims, near = nearest_products(index, index.vectors(ids), k, exclude=own)
    pairs = pd.DataFrame({"p": np.repeat(own, k), "q": near.ravel(), "s": sims.ravel()})
    pairs = pairs[pairs["q"] >= 0].sort_values(["p", "s"], ascending=[True, False], kind="stable")
    pairs = pairs.drop_duplicates(["p", "q"]).groupby("p", sort=False).head(k)
    rank = pairs.groupby("p", sort=False).cumcount().to_numpy()
    table_ids = np.full((len(products), k), -1, dtype=np.int64)
    table_sims = np.full((len(products), k), -np.inf, dtype=np.float32)
    table_ids[pairs["p"].to_numpy(), rank] = pairs["q"].to_numpy()
    table_sims[pairs["p"].to_numpy(), rank] = pairs["s"].to_numpy()
    return ProductNeighbours(products, table_ids, table_sims)


def neighbour_table(index, k: int) -> ProductNeighbours:
    """`build_neighbours(index, k)`, cached per index object (rebuilt when its entries or metadata change)."""
    return per_index(index, f"neighbours-{k}", lambda: build_neighbours(index, k))


def kernel(sims: np.ndarray) -> np.ndarray:
    """Gaussian weight of a cosine between unit vectors: exp(-squared distance), 1 for itself, 0 for padding."""
    return np.where(np.isfinite(sims), np.exp(-(2.0 - 2.0 * np.asarray(sims, dtype=np.float64))), 0.0)


def jaccard_to_query(
    table: ProductNeighbours, near: tuple[np.ndarray, np.ndarray], candidates: np.ndarray, k: int
) -> np.ndarray:
    """(C,) weighted Jaccard similarity of the query's and each candidate's k-reciprocal sets.

    `near` is the query's (k,) nearest product codes and cosines. A candidate is in the query's set when the
    query would be among its k nearest (its cosine reaches the candidate's k-th catalogue neighbour's); each
    set holds its owner (weight 1) and its members weighted by `kernel`. Slot P of the vectors is the query.
    """
    q_codes, q_sims = near
    kth = table.sims[:, k - 1] if table.sims.shape[1] >= k else np.full(len(table.products), -np.inf)
    valid = q_codes >= 0
    mutual = np.zeros(len(q_codes), dtype=bool)
    mutual[valid] = q_sims[valid] >= kth[q_codes[valid]]
    slots = len(table.products) + 1
    v_query = np.zeros(slots)
    v_query[-1] = 1.0
    v_query[q_codes[mutual]] = kernel(q_sims[mutual])
    v_cand = np.zeros((len(candidates), slots))
    rows = np.arange(len(candidates))
    reciprocal = table.reciprocal(candidates, k)
    members = np.where(reciprocal, table.ids[candidates, :k], slots - 1)  # non-members point at the query slot
    np.put_along_axis(v_cand, members, np.where(reciprocal, kernel(table.sims[candidates, :k]), 0.0), axis=1)
    v_cand[rows, candidates] = 1.0
    linked = dict(zip(q_codes[mutual].tolist(), kernel(q_sims[mutual]).tolist()))
    v_cand[rows, slots - 1] = [linked.get(int(c), 0.0) for c in candidates]
    return np.minimum(v_cand, v_query).sum(axis=1) / np.maximum(v_cand, v_query).sum(axis=1)


@dataclass(frozen=True)
class KReciprocal:
    """k-reciprocal re-scoring of a candidate pool: cosine - weight * (1 - Jaccard of the k-reciprocal sets)."""

    k: int = 20
    weight: float = 0.3  # Jaccard distance's weight against the cosine (the class bonus keeps its scale)

    def __call__(self, index, query: np.ndarray, matches: list[Match]) -> list[Match]:
        """The same matches re-scored and re-ordered (ties keep their order), ranks renumbered."""
        if not matches or self.k <= 0:
            return list(matches)
        table = neighbour_table(index, self.k)
        _, q_sims, q_codes = nearest_products(index, query, self.k)
        candidates = table.code_of([m.product_id for m in matches])
        known = candidates >= 0
        scores = np.array([m.score for m in matches], dtype=np.float64)
        jaccard = np.zeros(len(matches))
        jaccard[known] = jaccard_to_query(table, (q_codes[0], q_sims[0]), candidates[known], self.k)
        scores = scores - self.weight * (1.0 - jaccard)
        order = np.argsort(-scores, kind="stable")
        return [dataclasses.replace(matches[i], rank=r, score=float(scores[i])) for r, i in enumerate(order, 1)]
