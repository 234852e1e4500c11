"""The Milvus backend, for real on Milvus Lite: build, search like FAISS Flat, filters pushed down, delete, reload."""

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.index.backends import index_class, load_index, load_manifest
from engine.index.manifest import check_compatible
from engine.index.milvus import MilvusCatalogIndex
from engine.index.milvus_client import milvus_index_spec
from engine.index.store import CatalogIndex, IndexNotFoundError
from engine.search.products import SearchFilters, search_products

DIM = 32


@pytest.fixture
def milvus_env(monkeypatch, tmp_path):
    """The Milvus backend with a Milvus Lite file in tmp_path/index."""
    monkeypatch.setenv("LOOKALIKE_INDEX_BACKEND", "milvus")
    monkeypatch.delenv("LOOKALIKE_MILVUS_URI", raising=False)
    monkeypatch.delenv("LOOKALIKE_MILVUS_COLLECTION", raising=False)
    return tmp_path / "index"


def catalogue(n_products: int = 40, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame, dict]:
    """Two objects per product (close to a product centre), categories a/b/c, prices with gaps."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_products, DIM))
    noise = rng.normal(size=(2, *centres.shape))
    vectors = np.concatenate([centres + 0.1 * noise[0], centres + 0.8 * noise[1]])
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    products = [f"p{i}" for i in range(n_products)] * 2
    meta = pd.DataFrame(
        {
            "id": np.arange(2 * n_products, dtype=np.int64) * 3 + 5,
            "product_id": products,
            "image": [f"{p}.jpg" for p in products],
            "kind": ["object"] * n_products + ["image"] * n_products,
            "x0": 0.0, "y0": 0.0, "x1": 1.0, "y1": 1.0, "class_name": "", "confidence": 1.0, "content_hash": "h",
            "name": [f"Product {p}" for p in products],
            "category": [("a", "b", "c")[i % 3] for i in range(n_products)] * 2,
            "price": [np.nan if i % 7 == 0 else float(10 * i) for i in range(n_products)] * 2,
            "colour": "red",
        }
    )  # fmt: skip
    manifest = {"dim": DIM, "detector": {"weights_sha256": "abc"}, "embedding": {"name": "toy"}}
    return vectors, meta, manifest


@pytest.mark.integration
def test_the_setting_switches_the_backend(milvus_env, monkeypatch):
    assert index_class() is MilvusCatalogIndex
    monkeypatch.setenv("LOOKALIKE_INDEX_BACKEND", "faiss")
    assert index_class() is CatalogIndex


@pytest.mark.integration
def test_build_search_filter_delete_reload(milvus_env):
    vectors, meta, manifest = catalogue()
    built = MilvusCatalogIndex.from_vectors(vectors, meta, manifest)
    assert built.factory == "Flat"
    built.save(milvus_env)
    built.close()
    assert (milvus_env / "milvus.db").exists()

    index = load_index(milvus_env)
    flat = CatalogIndex.from_vectors(vectors, meta, manifest, factory="Flat")
    queries = vectors[:10] + 0.05
    m_scores, m_ids = index.search(queries, 10)
    f_scores, f_ids = flat.search(queries, 10)
    assert (m_ids == f_ids).all() and np.allclose(m_scores, f_scores, atol=1e-5)
    assert len(index) == 80 and index.dim == DIM
    pd.testing.assert_frame_equal(index.meta, flat.meta)
    pd.testing.assert_frame_equal(index.rows(m_ids[0]), flat.rows(f_ids[0]))
    assert np.allclose(index.vectors(meta["id"].to_numpy()[[3, 50]]), vectors[[3, 50]])

    query = vectors[0]
    for filters in (
        SearchFilters(categories=("b",)),
        SearchFilters(price_min=100, price_max=250),
        SearchFilters(categories=("a", "c"), exclude_products=("p0", "p3")),
    ):
        pushed = search_products(index, query, 10, filters)
        assert [m.product_id for m in pushed] == [m.product_id for m in search_products(flat, query, 10, filters)]
        assert len(pushed) == 10
        _, ids = index.search(query, 5, filter=filters.expression())  # Milvus applies it inside the search
        assert (ids[0] >= 0).all() and filters.mask(index.rows(ids[0])).all()
    priced = search_products(index, query, 40, SearchFilters(price_min=0))
    assert all(m.price is not None for m in priced) and len(priced) == 40 - 6  # the NaN prices never pass

    gone = meta["id"].to_numpy()[[0, 40]]  # both objects of p0
    index.remove(gone)
    assert len(index) == 78
    assert not np.isin(index.search(vectors[:1], 20)[1], gone).any()
    index.close()
    again = load_index(milvus_env)
    assert len(again) == 78 and "p0" not in set(again.meta["product_id"])
    again.close()


@pytest.mark.integration
def test_incremental_add_and_manifest_check(milvus_env):
    vectors, meta, manifest = catalogue()
    MilvusCatalogIndex.from_vectors(vectors[:60], meta.iloc[:60], manifest).save(milvus_env)
    index = load_index(milvus_env)
    first = index.next_id
    new = meta.iloc[60:].assign(id=np.arange(first, first + 20, dtype=np.int64))
    index.add(vectors[60:], new)
    index.manifest["built_at"] = "now"
    index.save(milvus_env)
    index.close()
    saved = load_manifest(milvus_env)
    assert saved["n_vectors"] == 80 and saved["built_at"] == "now" and saved["max_id"] == first + 19
    check_compatible(saved, "abc", {"name": "toy"})
    again = load_index(milvus_env)
    assert again.search(vectors[70:71], 1)[1][0, 0] == first + 10
    with pytest.raises(ValueError, match="new, distinct ids"):
        again.add(vectors[:1], meta.iloc[:1])
    again.close()


@pytest.mark.integration
def test_a_rebuild_switches_the_alias_and_the_old_collection_stays_until_the_next(milvus_env):
    vectors, meta, manifest = catalogue()
    names = []
    for factory in ("Flat", "IVF16,Flat", "HNSW16"):
        built = MilvusCatalogIndex.from_vectors(vectors, meta, manifest, factory=factory)
        names.append(built.save(milvus_env))
        built.close()
    index = load_index(milvus_env)
    assert index.factory == "HNSW16" and index.manifest["index"]["milvus_type"] == "HNSW"
    assert index.search(vectors[5:6], 1)[1][0, 0] == meta["id"].iat[5]
    collections = index._client.list_collections()
    assert names[2] in collections and names[1] in collections and names[0] not in collections
    index.close()


@pytest.mark.integration
def test_missing_catalogue_explains_how_to_build(milvus_env):
    with pytest.raises(IndexNotFoundError, match="LOOKALIKE_INDEX_BACKEND=milvus"):
        load_manifest(milvus_env)


def test_factory_strings_map_to_milvus_index_types():
    assert milvus_index_spec("Flat", {}) == ("FLAT", {}, {})
    assert milvus_index_spec("IVF1024,SQ8", {"nprobe": 64})[::2] == ("IVF_SQ8", {"nprobe": 64})
    assert milvus_index_spec("HNSW32,SQ8", {"efSearch": 96})[0] == "HNSW_SQ"
    assert milvus_index_spec("IVF4096,PQ56np", {})[1] == {"nlist": 4096, "m": 56, "nbits": 8}
    with pytest.raises(ValueError, match="no Milvus index"):
        milvus_index_spec("ITQ256,BFlat", {})


WRITER = """
import sys
import numpy as np
import pandas as pd
from engine.index.milvus import MilvusCatalogIndex

n = int(sys.argv[2])
vectors = np.random.default_rng(1).normal(size=(n, 32)).astype(np.float32)
meta = pd.DataFrame({"id": np.arange(n, dtype=np.int64), "product_id": "big"})
index = MilvusCatalogIndex.from_vectors(vectors, meta, {"dim": 32})
print("saving", flush=True)
index.save(sys.argv[1])
print("saved", flush=True)
"""


@pytest.mark.integration
def test_a_killed_build_leaves_the_previous_collection_live(milvus_env):
    vectors, meta, manifest = catalogue()
    good = MilvusCatalogIndex.from_vectors(vectors, meta, manifest)
    live = good.save(milvus_env)
    good.close()
    root = Path(__file__).resolve().parents[2]
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(milvus_env), "60000"], cwd=root, stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout.readline().strip() == "saving"
    folders = milvus_env / "milvus.db" / "collections"
    deadline = time.monotonic() + 60
    while len(list(folders.glob("*__v*"))) < 3 and time.monotonic() < deadline:  # live + its manifest + new
        time.sleep(0.01)
    time.sleep(0.5)  # inside the inserts of the new collection (60,000 rows take ~8 s on Milvus Lite)
    writer.kill()
    assert writer.wait() != 0
    index = load_index(milvus_env)
    assert index._collection == live and len(index) == 80 and set(index.meta["product_id"]) != {"big"}
    orphans = [c for c in index._client.list_collections() if c > live and not c.endswith("__m")]
    assert orphans  # the dead writer's collection, never made live
    index.manifest["built_at"] = "again"
    rebuilt = MilvusCatalogIndex.from_vectors(vectors, meta, index.manifest)
    index.close()
    rebuilt.save(milvus_env)
    assert not set(orphans) & set(rebuilt._client.list_collections())  # cleaned up by the next build
    rebuilt.close()
