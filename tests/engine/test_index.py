"""FAISS index on disk: round trip, atomic versions, manifest checks, and product search with filters."""

import numpy as np
import pandas as pd
import pytest

from engine.index.manifest import IndexMismatchError, check_compatible
from engine.index.store import (
    POINTER,
    CatalogIndex,
    IndexNotFoundError,
    current_version,
)
from engine.search.products import SearchFilters, search_products

DIM = 16


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def toy_index() -> CatalogIndex:
    """6 products, two objects each (a close and a far one), in 3 categories with prices 10..60."""
    rng = np.random.default_rng(0)
    centres = unit(rng.normal(size=(6, DIM)))
    vectors = unit(np.concatenate([centres + 0.05 * rng.normal(size=centres.shape), centres + 0.6]))
    products = [f"p{i}" for i in range(6)] * 2
    meta = pd.DataFrame(
        {
            "id": np.arange(12, dtype=np.int64) * 10 + 7,  # ids need not be row numbers
            "product_id": products,
            "image": [f"{p}.jpg" for p in products],
            "kind": ["object"] * 6 + ["image"] * 6,
            "x0": 0.0, "y0": 0.0, "x1": 1.0, "y1": 1.0,
            "class_name": "", "confidence": 1.0, "content_hash": "h",
            "name": [f"Product {p}" for p in products],
            "category": ["sofa", "sofa", "lamp", "lamp", "bed", "bed"] * 2,
            "price": [10.0, 20.0, 30.0, 40.0, 50.0, np.nan] * 2,
            "colour": ["red"] * 12,
        }
    )  # fmt: skip
    manifest = {"dim": DIM, "detector": {"weights_sha256": "abc"}, "embedding": {"name": "toy"}}
    index = CatalogIndex.from_vectors(vectors, meta, manifest)
    index.centres = centres
    return index


def test_save_load_round_trip(tmp_path, toy_index):
    toy_index.save(tmp_path / "idx")
    loaded = CatalogIndex.load(tmp_path / "idx")
    assert len(loaded) == 12 and loaded.dim == DIM
    assert loaded.manifest["n_vectors"] == 12
    pd.testing.assert_frame_equal(loaded.meta, toy_index.meta)
    ids = toy_index.meta["id"].to_numpy()[[3, 9]]
    assert np.allclose(loaded.vectors(ids), toy_index.vectors(ids))
    scores, found = loaded.search(toy_index.centres[2], 1)
    assert found[0, 0] == 27  # the close object of p2 (row 2)


def test_each_save_is_a_new_version_and_old_ones_are_pruned(tmp_path, toy_index):
    versions = [toy_index.save(tmp_path) for _ in range(4)]
    assert current_version(tmp_path) == versions[-1]
    assert sorted(p.name for p in tmp_path.glob("v*")) == sorted(v.name for v in versions[-2:])


def test_interrupted_write_leaves_the_last_good_version_live(tmp_path, toy_index):
    good = toy_index.save(tmp_path)
    (tmp_path / "v99999999T999999-1-1.partial").mkdir()  # a build killed before its commit
    (tmp_path / f".{POINTER}.123.tmp").write_text("garbage")
    assert current_version(tmp_path) == good
    assert len(CatalogIndex.load(tmp_path)) == 12


def test_missing_index_explains_how_to_build(tmp_path):
    with pytest.raises(IndexNotFoundError, match="build_catalog.py"):
        CatalogIndex.load(tmp_path / "nothing-here")


def test_manifest_mismatch_is_refused(toy_index):
    check_compatible(toy_index.manifest, "abc", {"name": "toy"})
    with pytest.raises(IndexMismatchError, match="weights"):
        check_compatible(toy_index.manifest, "other-sha", {"name": "toy"})
    with pytest.raises(IndexMismatchError, match="embedding config"):
        check_compatible(toy_index.manifest, "abc", {"name": "toy", "shrink": 0.1})


def test_each_product_appears_once_with_its_best_object(toy_index):
    matches = search_products(toy_index, toy_index.centres[0], k=6)
    assert [m.product_id for m in matches][0] == "p0"
    assert len({m.product_id for m in matches}) == len(matches) == 6
    close, far = toy_index.vectors(np.array([7, 67])) @ toy_index.centres[0]
    assert close > far
    assert matches[0].score == pytest.approx(close, abs=1e-5)  # the close object represents p0
    assert all(a.score >= b.score for a, b in zip(matches, matches[1:]))
    assert matches[0].extra == {"colour": "red"}
    assert [m.rank for m in matches] == list(range(1, 7))


def test_filters(toy_index):
    query = toy_index.centres[0]
    lamps = search_products(toy_index, query, 10, SearchFilters(categories=("lamp",)))
    assert {m.product_id for m in lamps} == {"p2", "p3"}
    priced = search_products(toy_index, query, 10, SearchFilters(price_min=15, price_max=45))
    assert {m.product_id for m in priced} == {"p1", "p2", "p3"}
    others = search_products(toy_index, query, 10, SearchFilters(exclude_products=("p0",)))
    assert "p0" not in {m.product_id for m in others} and len(others) == 5
    assert search_products(toy_index, query, 10, SearchFilters(categories=("chair",))) == []


def test_one_per_product_follows_an_edited_metadata_table(toy_index):
    assert len(search_products(toy_index, toy_index.centres[0], k=6)) == 6  # the grouping is made and kept
    toy_index.replace_meta(toy_index.meta.assign(product_id="one"))  # every entry now belongs to one product
    assert [m.product_id for m in search_products(toy_index, toy_index.centres[0], k=6)] == ["one"]
