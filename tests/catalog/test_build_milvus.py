"""LOOKALIKE_INDEX_BACKEND=milvus: the builder and `engine.load` on Milvus Lite, as with FAISS files."""

import shutil

import pandas as pd
import pytest

import engine
from catalog.build import build_catalog


@pytest.fixture
def milvus(monkeypatch):
    """The Milvus backend (a Milvus Lite file in each index folder)."""
    monkeypatch.setenv("LOOKALIKE_INDEX_BACKEND", "milvus")
    for name in ("LOOKALIKE_MILVUS_URI", "LOOKALIKE_MILVUS_COLLECTION"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_milvus_build_searches_like_faiss_and_updates_in_place(tmp_path, few_images, milvus):
    images, csv, weights = few_images["images"], few_images["csv"], few_images["weights"]
    report = build_catalog(images, tmp_path / "milvus", csv, weights, progress=False)
    assert report.embedded == 8 and report.index == "Flat (built)" and (tmp_path / "milvus" / "milvus.db").exists()
    milvus.setenv("LOOKALIKE_INDEX_BACKEND", "faiss")
    build_catalog(images, tmp_path / "faiss", csv, weights, progress=False)
    faiss_service = engine.load(tmp_path / "faiss")
    milvus.setenv("LOOKALIKE_INDEX_BACKEND", "milvus")
    service = engine.load(tmp_path / "milvus")
    assert type(service.index).__name__ == "MilvusCatalogIndex" and len(service.index) == len(faiss_service.index)
    table = pd.read_csv(csv)
    for image in table["image"].iloc[:4]:
        photo = engine.load_image(images / image)
        analysis = service.analyse(photo)
        found = service.search_box(analysis, (0, 0, *photo.size), k=5)
        expected = faiss_service.search_box(analysis, (0, 0, *photo.size), k=5)
        assert [m.product_id for m in found] == [m.product_id for m in expected]
        assert [m.score for m in found] == pytest.approx([m.score for m in expected], abs=1e-5)
    chairs = engine.SearchFilters(categories=("chairs",), exclude_products=(str(table["product_id"].iloc[0]),))
    vector = service.product_vector(str(table["product_id"].iloc[0]))
    assert {m.category for m in service.search(vector, 5, chairs)} == {"chairs"}
    service.index.close()

    update = tmp_path / "update"
    shutil.copytree(images, update)
    (update / table["image"].iloc[0]).unlink()
    again = build_catalog(update, tmp_path / "milvus", csv, weights, progress=False)
    assert (again.embedded, again.unchanged, again.removed) == (0, 7, 1)
    assert again.index == "Flat (updated in place)"
    index = engine.load(tmp_path / "milvus").index
    assert table["image"].iloc[0] not in set(index.meta["image"]) and index.manifest["n_products"] == 7
    index.close()
    with pytest.raises(engine.IndexMismatchError, match="weights"):
        engine.load(tmp_path / "milvus", weights="yolov8n.yaml")
