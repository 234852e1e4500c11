"""Near-duplicate pairs: the FAISS k-NN self-search agrees with brute force, and an index's products are found."""

from __future__ import annotations

import numpy as np
import pytest

from engine.search.duplicates import near_duplicate_pairs, near_duplicates, product_vectors


def unit_rows(count: int, dim: int, seed: int, planted: int = 0) -> np.ndarray:
    """Random unit rows; the last `planted` rows are slightly noisy copies of the first ones."""
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(count, dim))
    rows[count - planted :] = rows[:planted] + rng.normal(scale=0.05, size=(planted, dim))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def brute_force(vectors: np.ndarray, threshold: float, k: int) -> dict[tuple[int, int], float]:
    """Every i < j pair above threshold where j is in i's k nearest others or i in j's, by numpy."""
    cos = vectors.astype(np.float64) @ vectors.T.astype(np.float64)
    np.fill_diagonal(cos, -np.inf)
    pairs = {}
    for i in range(len(vectors)):
        for j in np.argsort(-cos[i])[:k]:
            if cos[i, j] >= threshold:
                pairs[(min(i, j), max(i, j))] = cos[i, j]
    return pairs


@pytest.mark.parametrize("k", [1, 3, 10, 300])
@pytest.mark.parametrize("threshold", [0.95, 0.2, -1.0])
def test_pairs_match_brute_force(k, threshold):
    vectors = unit_rows(240, 32, seed=k, planted=12)
    pairs = near_duplicate_pairs(vectors, threshold, k)
    expected = brute_force(vectors, threshold, k)
    got = {(int(i), int(j)): s for i, j, s in pairs}
    assert set(got) == set(expected)
    assert all(abs(got[key] - expected[key]) < 1e-5 for key in got)
    assert all(i < j for i, j in got)
    assert list(pairs[:, 2]) == sorted(pairs[:, 2], reverse=True)  # best first


def test_planted_copies_are_the_top_pairs_and_blocks_do_not_change_the_answer(monkeypatch):
    vectors = unit_rows(500, 16, seed=7, planted=20)
    whole = near_duplicate_pairs(vectors, 0.98, k=5)
    assert {(int(i), int(j)) for i, j, _ in whole} == {(n, 480 + n) for n in range(20)}
    monkeypatch.setattr("engine.search.duplicates.BLOCK", 7)  # many FAISS calls, same pairs
    assert np.array_equal(near_duplicate_pairs(vectors, 0.98, k=5), whole)


def test_identical_rows_and_tiny_inputs():
    row = unit_rows(1, 8, seed=1)
    same = np.repeat(row, 3, axis=0)
    pairs = near_duplicate_pairs(same, 0.999, k=5)
    assert {(int(i), int(j)) for i, j, _ in pairs} == {(0, 1), (0, 2), (1, 2)}
    assert np.allclose(pairs[:, 2], 1.0, atol=1e-5)
    assert near_duplicate_pairs(row, 0.0).shape == (0, 3)
    assert near_duplicate_pairs(np.zeros((0, 8), np.float32), 0.0).shape == (0, 3)


def test_an_index_products_and_their_pairs(service):
    ids, vectors = product_vectors(service.index)
    assert len(ids) == service.index.meta["product_id"].nunique() == len(vectors)
    for product in ids[:5]:  # the same vector "products like this one" searches with
        assert np.allclose(vectors[list(ids).index(product)], service.product_vector(product), atol=1e-6)
    table = near_duplicates(service.index, threshold=-1.0, k=len(ids))
    assert len(table) == len(ids) * (len(ids) - 1) // 2  # every pair at the lowest threshold
    best = near_duplicates(service.index, threshold=0.0, k=3, limit=4)
    assert list(best.columns) == ["product_a", "product_b", "score"] and len(best) <= 4
    assert (best["product_a"] != best["product_b"]).all()
    assert list(best["score"]) == sorted(best["score"], reverse=True)
