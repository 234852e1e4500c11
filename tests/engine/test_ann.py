"""Index types for large catalogues, with real FAISS on 3,000 clustered vectors: recall against exact search,
factory strings and search parameters through save/load, add/remove without a rebuild, tombstones, compaction,
memory-mapped loading, and the size-based default."""

from pathlib import Path

import faiss
import numpy as np
import pandas as pd
import pytest
from faiss.contrib.evaluation import knn_intersection_measure
from faiss.contrib.exhaustive_search import knn

from engine.index.factories import (
    FLAT_MAX_VECTORS,
    choose_factory,
    default_params,
    ivf_factory,
    keeps_factory,
    train_size,
)
from engine.index.store import CatalogIndex, current_version

DIM, N, QUERIES = 64, 3000, 100
# name -> (factory, recall@10 bar); PQ alone is lossy by design, so it has its own, lower bar
FACTORIES = {
    "flat": ("Flat", 0.99),
    "hnsw": ("HNSW32", 0.9),
    "hnsw-sq8": ("HNSW32,SQ8", 0.9),
    "ivf-sq8": ("IVF32,SQ8", 0.9),
    "ivf-pq-refined": ("IVF32,PQ16np,RFlat", 0.9),
    "ivf-pq": ("IVF32,PQ32np", 0.85),
    "binary-flat": ("ITQ64,BFlat", 0.9),
    "binary-hnsw": ("ITQ64,BHNSW32", 0.9),
}
REMOVES_FOR_REAL = {"Flat", "IVF32,SQ8", "ITQ64,BFlat"}
PQ_TRAINING = {"ivf-pq", "ivf-pq-refined"}  # seconds of k-means per index: the integration tier


def tiered(names) -> list:
    """Parametrize values; the product-quantised ones marked integration."""
    return [pytest.param(name, marks=pytest.mark.integration) if name in PQ_TRAINING else name for name in names]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One OpenMP thread: deterministic HNSW builds, and no spin-waiting on a busy machine."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)


@pytest.fixture(scope="module")
def data() -> dict:
    """A Gaussian mixture on the unit sphere: 3,000 indexed vectors (ids 1, 4, 7, …) and 100 held-out queries."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(30, DIM))
    points = centres[rng.integers(0, 30, N + QUERIES)] + rng.normal(size=(N + QUERIES, DIM))
    points = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    queries, vectors = points[:QUERIES], points[QUERIES:]
    ids = np.arange(N, dtype=np.int64) * 3 + 1
    return {"vectors": vectors, "queries": queries, "ids": ids, "truth": exact_top(vectors, ids, queries, 10)}


def exact_top(vectors: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Ground-truth ids of the k best inner products."""
    return ids[knn(queries, vectors, k, metric=faiss.METRIC_INNER_PRODUCT)[1]]


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of the true top-k found."""
    return float(knn_intersection_measure(np.asarray(found), np.asarray(truth)))


def make(data: dict, factory: str | None, rows=slice(None), params=None) -> CatalogIndex:
    """A CatalogIndex over a slice of the data, with a product column."""
    ids = data["ids"][rows]
    meta = pd.DataFrame({"id": ids, "product_id": [f"p{i}" for i in ids]})
    return CatalogIndex.from_vectors(data["vectors"][rows], meta, {"dim": DIM}, factory, params)


@pytest.mark.parametrize("name", tiered(FACTORIES))
def test_approximate_search_agrees_with_exact_search(data, name):
    factory, bar = FACTORIES[name]
    index = make(data, factory)
    scores, found = index.search(data["queries"], 10)
    assert recall(found, data["truth"]) >= bar
    assert np.all(np.diff(scores, axis=1) <= 1e-6)  # best first
    assert index.manifest["index"]["factory"] == factory and index.manifest["n_vectors"] == N


@pytest.mark.parametrize("name", tiered(["hnsw-sq8", "ivf-sq8", "ivf-pq-refined", "binary-hnsw"]))
def test_factory_and_search_params_round_trip_through_save_and_load(tmp_path, data, name):
    factory = FACTORIES[name][0]
    params = {"efSearch": 77} if "HNSW" in factory else {"nprobe": 5}
    if "RFlat" in factory:
        params["k_factor_rf"] = 3
    index = make(data, factory, params=params)
    before = index.search(data["queries"], 10)
    index.save(tmp_path)
    loaded = CatalogIndex.load(tmp_path)
    info = loaded.manifest["index"]
    assert info["factory"] == factory and info["params"] == {**default_params(factory), **params}
    assert info["train_size"] == train_size(factory, N)
    assert applied(loaded, "efSearch" if "HNSW" in factory else "nprobe") == list(params.values())[0]
    after = loaded.search(data["queries"], 10)
    np.testing.assert_array_equal(before[1], after[1])


def applied(index: CatalogIndex, name: str) -> int:
    """The value of a search parameter as set on the loaded FAISS object."""
    ann = index.index
    if hasattr(ann, "codes"):
        return faiss.downcast_IndexBinary(ann.codes.index).hnsw.efSearch
    inner = faiss.downcast_index(ann.index.index if isinstance(ann.index, faiss.IndexIDMap2) else ann.index)
    if isinstance(inner, faiss.IndexRefine):
        inner = faiss.downcast_index(inner.base_index)
    return inner.hnsw.efSearch if name == "efSearch" else inner.nprobe


@pytest.mark.parametrize("name", ["flat", "hnsw-sq8", "ivf-sq8", "binary-flat", "binary-hnsw"])
def test_add_and_remove_without_rebuild_keep_ids_stable(tmp_path, data, name):
    factory = FACTORIES[name][0]
    index = make(data, factory, rows=slice(0, 2500))
    index.add(data["vectors"][2500:], pd.DataFrame({"id": data["ids"][2500:], "product_id": "new"}))
    gone = np.unique(np.concatenate([data["truth"][:, 0], data["ids"][::7]]))  # every query's best, and more
    kept = np.setdiff1d(data["ids"], gone)
    stored = index.vectors(kept[:50])
    index.remove(gone)
    assert len(index) == N - len(gone) and set(index.meta["id"]) == set(kept)
    assert index.index.ntotal == (N - len(gone) if factory in REMOVES_FOR_REAL else N)
    np.testing.assert_array_equal(index.vectors(kept[:50]), stored)  # ids still name the same vectors
    index.save(tmp_path)
    loaded = CatalogIndex.load(tmp_path)
    for candidate in (index, loaded):
        scores, found = candidate.search(data["queries"], 50)
        assert not np.isin(found, gone).any()
        truth = exact_top(data["vectors"][np.isin(data["ids"], kept)], kept, data["queries"], 10)
        assert recall(found[:, :10], truth) >= 0.85
    with pytest.raises(ValueError, match="new, distinct ids"):
        index.add(data["vectors"][:1], pd.DataFrame({"id": kept[:1], "product_id": "dup"}))
    assert index.next_id == data["ids"].max() + 1


def test_hnsw_tombstones_are_filtered_saved_and_compacted_away(tmp_path, data):
    index = make(data, "HNSW32")
    gone = data["truth"][:, :3].ravel()
    index.remove(gone)
    assert index.tombstone_fraction == pytest.approx(len(np.unique(gone)) / N)
    index.save(tmp_path)
    assert (current_version(tmp_path) / "tombstones.npy").is_file()
    loaded = CatalogIndex.load(tmp_path)
    assert loaded.manifest["index"]["tombstones"] == len(np.unique(gone))
    _, found = loaded.search(data["queries"], 10)
    assert not np.isin(found, gone).any() and (found >= 0).all()
    loaded.compact()
    assert loaded.index.ntotal == len(loaded) == N - len(np.unique(gone)) and loaded.tombstone_fraction == 0
    _, after = loaded.search(data["queries"], 10)
    assert recall(after, found) >= 0.95
    with pytest.raises(ValueError, match="cannot be reused"):
        index.index.add(data["vectors"][:1], gone[:1])


def test_hnsw_build_parameter_efconstruction_is_applied_and_kept(tmp_path, data):
    index = make(data, "HNSW32", rows=slice(0, 500), params={"efConstruction": 64, "efSearch": 50})
    assert faiss.downcast_index(index.index.index.index).hnsw.efConstruction == 64
    index.save(tmp_path)
    loaded = CatalogIndex.load(tmp_path)
    assert loaded.manifest["index"]["params"] == {"efConstruction": 64, "efSearch": 50}
    assert default_params("ITQ64,BHNSW32") == {"efSearch": 128, "efConstruction": 100, "rerank": 20}
    assert faiss.downcast_index(loaded.index.index.index).hnsw.efSearch == 50
    with pytest.raises(ValueError, match="HNSW indexes only"):
        make(data, "Flat", rows=slice(0, 10), params={"efConstruction": 64})


def test_compaction_can_switch_the_index_type(data):
    index = make(data, "Flat")
    index.compact(factory="HNSW32,SQ8")
    assert index.factory == "HNSW32,SQ8"
    assert index.manifest["index"]["params"] == {"efSearch": 128, "efConstruction": 100}
    assert recall(index.search(data["queries"], 10)[1], data["truth"]) >= 0.9


@pytest.mark.parametrize("name", tiered(["flat", "hnsw-sq8", "ivf-sq8", "ivf-pq", "binary-flat"]))
def test_mmap_load_maps_the_files_and_is_read_only(tmp_path, data, name):
    factory = FACTORIES[name][0]
    index = make(data, factory)
    index.save(tmp_path)
    mapped = CatalogIndex.load(tmp_path, mmap=True)
    version = current_version(tmp_path)
    maps = Path("/proc/self/maps").read_text()
    assert str(version / "index.faiss") in maps
    np.testing.assert_array_equal(mapped.search(data["queries"], 10)[1], index.search(data["queries"], 10)[1])
    with pytest.raises(PermissionError, match="mmap"):
        mapped.remove(data["ids"][:1])
    assert CatalogIndex.load(tmp_path, mmap=None).read_only is False  # small files: auto mode copies them


def test_the_default_is_exact_for_small_catalogues_and_approximate_above_the_threshold():
    assert choose_factory(1000) == choose_factory(FLAT_MAX_VECTORS) == "Flat"
    assert choose_factory(FLAT_MAX_VECTORS + 1) == "IVF1024,SQ8" and choose_factory(10**6) == "IVF4096,SQ8"
    assert keeps_factory("Flat", FLAT_MAX_VECTORS) and not keeps_factory("Flat", FLAT_MAX_VECTORS + 1)
    assert keeps_factory("IVF1024,SQ8", FLAT_MAX_VECTORS - 1)  # no flapping back to Flat just below
    assert keeps_factory("IVF1024,SQ8", 200_000) and not keeps_factory("IVF1024,SQ8", 1_000_000)  # 4x growth
    assert not keeps_factory("IVF1024,SQ8", 20_000) and not keeps_factory("HNSW32", 10**6)
    assert ivf_factory(1_000_000) == "IVF4096,SQ8" and ivf_factory(100) == "IVF32,SQ8"
    assert train_size("IVF4096,SQ8", 10**7) == 163_840 and train_size("HNSW32,SQ8", 10**7) == 100_000


def test_an_index_written_before_index_types_still_loads_and_updates(tmp_path, data):
    version = tmp_path / "v20260101T000000.000000000-1"
    version.mkdir()
    legacy = faiss.IndexIDMap2(faiss.IndexFlatIP(DIM))  # format 1: always this, no "index" manifest section
    legacy.add_with_ids(data["vectors"][:100], data["ids"][:100])
    faiss.write_index(legacy, str(version / "index.faiss"))
    pd.DataFrame({"id": data["ids"][:100], "product_id": "old"}).to_parquet(version / "meta.parquet")
    (version / "manifest.json").write_text('{"dim": 64, "format": 1, "index_type": "IDMap2,FlatIP"}')
    (tmp_path / "CURRENT").write_text(version.name)
    index = CatalogIndex.load(tmp_path)
    assert index.factory == "Flat" and len(index) == 100 and index.next_id == data["ids"][99] + 1
    index.remove(data["ids"][:10])
    index.save(tmp_path)
    assert CatalogIndex.load(tmp_path).manifest["index"]["ntotal"] == 90
