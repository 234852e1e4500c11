"""Query expansion, DBA and k-reciprocal re-ranking over products (real FAISS, small hand-made vectors)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from engine.index.store import CatalogIndex
from engine.search import expansion
from engine.search.expansion import KReciprocal, augment_vectors, expand_query, nearest_products, neighbour_table
from engine.search.products import search_products
from engine.search.rerank import RankingConfig, search_on_topic

DIM = 16


def make_index(vectors: np.ndarray, products: list[str]) -> CatalogIndex:
    """An exact index of unit `vectors`, entry i belonging to `products[i]`."""
    vectors = np.asarray(vectors, dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    meta = pd.DataFrame(
        {
            "id": np.arange(len(products), dtype=np.int64), "product_id": products,
            "image": [f"{p}.jpg" for p in products], "kind": "image", "x0": 0.0, "y0": 0.0, "x1": 100.0,
            "y1": 100.0, "class_name": "", "confidence": 1.0, "content_hash": "h", "category": "", "price": 1.0,
        }
    )  # fmt: skip
    manifest = {"dim": vectors.shape[1], "detector": {"weights_sha256": "abc"}, "embedding": {"name": "toy"}}
    return CatalogIndex.from_vectors(vectors, meta, manifest, factory="Flat")


@pytest.fixture
def random_index() -> tuple[CatalogIndex, np.ndarray]:
    """40 products of 1 to 3 entries each (random unit vectors), and a query."""
    rng = np.random.default_rng(7)
    products = [f"p{i:02d}" for i in range(40) for _ in range(1 + i % 3)]
    index = make_index(rng.standard_normal((len(products), DIM)), products)
    query = rng.standard_normal(DIM).astype(np.float32)
    return index, query / np.linalg.norm(query)


def product_similarity(index: CatalogIndex) -> tuple[np.ndarray, list[str]]:
    """Brute force: (P, P) best entry-pair cosine between products (self: -inf), products in sorted order."""
    meta = index.meta
    names = sorted(meta["product_id"].unique())
    vectors = index.vectors(meta["id"].to_numpy())
    entry = vectors @ vectors.T
    owner = meta["product_id"].map({p: i for i, p in enumerate(names)}).to_numpy()
    sims = np.full((len(names), len(names)), -np.inf)
    for a in range(len(names)):
        for b in range(len(names)):
            if a != b:
                sims[a, b] = entry[np.ix_(owner == a, owner == b)].max()
    return sims, names


def test_no_expansion_is_the_identity_and_expansion_moves_towards_the_nearest_products(random_index):
    index, query = random_index
    assert np.allclose(expand_query(index, query, n=0), query, atol=1e-6)
    ids, sims, _ = nearest_products(index, query, 2)
    by_hand = query + sims[0, 0] ** 3 * index.vectors(ids[0, :1])[0] + sims[0, 1] ** 3 * index.vectors(ids[0, 1:])[0]
    expanded = expand_query(index, query, n=2, alpha=3.0)
    assert np.allclose(expanded, by_hand / np.linalg.norm(by_hand), atol=1e-5)
    assert expanded @ index.vectors(ids[0, :1])[0] > query @ index.vectors(ids[0, :1])[0]


def test_nearest_products_are_distinct_products_by_their_best_entry(random_index):
    index, query = random_index
    ids, sims, codes = nearest_products(index, query, 10)
    found = index.rows(ids[0])["product_id"].tolist()
    assert found == [m.product_id for m in search_products(index, query, 10)]  # the same as the product search
    assert np.allclose(sims[0], [m.score for m in search_products(index, query, 10)], atol=1e-5)
    assert len(set(codes[0])) == 10
    _, _, without = nearest_products(index, query, 10, exclude=codes[0, :1])
    assert codes[0, 0] not in without[0] and list(without[0, :9]) == list(codes[0, 1:])


def test_nearest_products_pad_when_the_catalogue_is_short():
    index = make_index(np.eye(3, DIM) + 0.1, ["a", "a", "b"])
    ids, sims, codes = nearest_products(index, np.eye(1, DIM)[0].astype(np.float32), 4)
    assert (ids[0, 2:] == -1).all() and (codes[0, 2:] == -1).all() and np.isinf(sims[0, 2:]).all()
    assert sorted(index.rows(ids[0, :2])["product_id"]) == ["a", "b"]


def test_neighbour_lists_are_each_products_nearest_other_products_by_best_entry_pair(random_index):
    index, _ = random_index
    table = expansion.build_neighbours(index, 5)
    sims, names = product_similarity(index)
    assert list(table.products) == names
    for p in range(len(names)):
        expected = np.argsort(-sims[p], kind="stable")[:5]
        assert list(table.ids[p]) == list(expected)
        assert np.allclose(table.sims[p], sims[p, expected], atol=1e-5)


def test_k_reciprocal_sets_are_symmetric_as_defined(random_index):
    index, _ = random_index
    table = expansion.build_neighbours(index, 8)
    k = 4
    mask = table.reciprocal(np.arange(len(table.products)), k)
    assert mask.any() and not mask.all()
    members = {(p, int(q)) for p in range(len(table.products)) for q in table.ids[p, :k][mask[p]]}
    for p, q in members:
        assert (q, p) in members  # q is in p's set exactly when p is in q's
        assert p in table.ids[q, :k] and q in table.ids[p, :k]
    for p in range(len(table.products)):  # and every mutual pair is found
        for q in table.ids[p, :k]:
            assert ((p, int(q)) in members) == (p in table.ids[q, :k])


def test_neighbour_table_is_cached_per_index_and_rebuilt_when_it_changes(random_index):
    index, _ = random_index
    first = neighbour_table(index, 5)
    assert neighbour_table(index, 5) is first
    index.add(np.ones((1, DIM), np.float32) / 4, index.meta.iloc[:1].assign(id=index.next_id, product_id="new"))
    again = neighbour_table(index, 5)
    assert again is not first and "new" in again.products


def test_dba_with_no_neighbours_keeps_the_vectors_and_with_some_pulls_products_together(random_index):
    index, _ = random_index
    ids, same = augment_vectors(index, n=0)
    assert np.allclose(same, index.vectors(ids), atol=1e-6)
    ids, augmented = augment_vectors(index, n=2)
    assert np.allclose(np.linalg.norm(augmented, axis=1), 1, atol=1e-5)
    nearest, _, _ = nearest_products(index, index.vectors(ids[:1]), 1, exclude=np.array([0]))
    before = float(index.vectors(ids[:1])[0] @ index.vectors(nearest[0])[0])
    assert float(augmented[0] @ index.vectors(nearest[0])[0]) > before
    copy = expansion.augmented_index(index, n=2)
    assert copy.meta["id"].tolist() == index.meta["id"].tolist() and np.allclose(copy.vectors(ids), augmented)


def gram_vectors(gram: np.ndarray) -> np.ndarray:
    """Unit vectors with exactly these pairwise cosines (the Gram matrix must be positive definite)."""
    values, vectors = np.linalg.eigh(gram)
    assert values.min() > 0
    out = np.zeros((len(gram), DIM))
    out[:, : len(gram)] = vectors * np.sqrt(values)
    return out


@pytest.fixture
def clusters() -> tuple[CatalogIndex, np.ndarray]:
    """A query among a loose cluster (a1-a3), and x: a little closer to it, but in a tight cluster of its own (b)."""
    names = ["q", "x", "b1", "b2", "a1", "a2", "a3"]
    gram = np.full((7, 7), 0.5)
    for group, cosine in ((["x", "b1", "b2"], 0.95), (["a1", "a2", "a3"], 0.7)):
        for one in group:
            for other in group:
                gram[names.index(one), names.index(other)] = cosine
    for name, cosine in (("x", 0.82), ("b1", 0.78), ("b2", 0.78), ("a1", 0.80), ("a2", 0.79), ("a3", 0.78)):
        gram[0, names.index(name)] = gram[names.index(name), 0] = cosine
    np.fill_diagonal(gram, 1.0)
    vectors = gram_vectors(gram).astype(np.float32)
    return make_index(vectors[1:], names[1:]), vectors[0] / np.linalg.norm(vectors[0])


def test_k_reciprocal_lifts_the_querys_mutual_neighbours_over_a_closer_outsider(clusters):
    index, query = clusters
    pool = search_products(index, query, 6)
    assert [m.product_id for m in pool][:2] == ["x", "a1"]
    reranked = KReciprocal(k=2, weight=0.3)(index, query, pool)
    order = [m.product_id for m in reranked]
    assert order.index("a1") < order.index("x") and order.index("a2") < order.index("x")
    assert [m.rank for m in reranked] == list(range(1, 7))


def test_k_reciprocal_never_drops_a_candidate_and_only_lowers_scores(random_index):
    index, query = random_index
    pool = search_products(index, query, 50)
    reranked = KReciprocal(k=5, weight=0.5)(index, query, pool)
    assert sorted(m.product_id for m in reranked) == sorted(m.product_id for m in pool)
    cosine = {m.product_id: m.score for m in pool}
    assert all(m.score <= cosine[m.product_id] + 1e-9 for m in reranked)
    assert [m.score for m in reranked] == sorted((m.score for m in reranked), reverse=True)
    assert KReciprocal(k=5, weight=0.0)(index, query, pool) == pool  # no weight: the same order and scores


def test_search_on_topic_applies_them_only_when_asked(random_index):
    index, query = random_index
    plain = search_products(index, query, 10)
    assert search_on_topic(index, query, 10, None, None, RankingConfig()) == plain
    reciprocal = dataclasses.replace(RankingConfig(), reciprocal_k=5, reciprocal_weight=0.5)
    pool = {m.product_id for m in search_products(index, query, reciprocal.pool)}
    reranked = search_on_topic(index, query, 10, None, None, reciprocal)
    assert len(reranked) == 10 and {m.product_id for m in reranked} <= pool
    assert [m.product_id for m in reranked] != [m.product_id for m in plain]
    expanded = search_on_topic(index, query, 10, None, None, dataclasses.replace(RankingConfig(), expand=3))
    assert expanded == search_products(index, expand_query(index, query, 3), 10)
