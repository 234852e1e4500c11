"""Curated boxes with the real default detector, embedding, head and FAISS: set, search, rebuild, clear."""

import shutil
from pathlib import Path

import pytest

import engine
from catalog.build import build_catalog
from catalog.curate import clear_box, set_box
from catalog.updater import UpdateError, Updater
from engine.curation.curated_boxes import CuratedBoxes
from engine.index.store import read_manifest
from scripts import search
from scripts import set_box as set_box_cli
from tests.conftest import CATALOG, build_default

BOX = (30.0, 70.0, 180.0, 200.0)  # a part of the photo no detection has exactly


@pytest.fixture
def index_copy(tmp_path, default_catalog_index):
    """A private copy of the 60-product default index (and its product table)."""
    shutil.copy(default_catalog_index.parent / "products.csv", tmp_path / "products.csv")
    return Path(shutil.copytree(default_catalog_index, tmp_path / "index"))


@pytest.fixture(scope="module")
def updater(default_catalog_index):
    return Updater.for_index(default_catalog_index)


def product_with_objects(index_dir) -> str:
    meta = engine.CatalogIndex.load(index_dir).meta
    return meta.loc[meta["kind"] == "object", "product_id"].iloc[0]


def top(index_dir, product_id, box, capsys) -> tuple[str, float]:
    """scripts/search.py on the product's photo with --box: (first product, its plain cosine similarity)."""
    import json

    meta = engine.CatalogIndex.load(index_dir).meta
    image = CATALOG / meta.loc[meta["product_id"] == product_id, "image"].iloc[0]
    args = ["--index", str(index_dir), "--image", str(image), "--box", ",".join(map(str, box)), "--json"]
    assert search.main(args) == 0
    first = json.loads(capsys.readouterr().out)[0]
    return first["product_id"], first["similarity"]


def test_set_box_cli_then_search_finds_the_product_first_and_a_rebuild_keeps_it(index_copy, tmp_path, capsys):
    product = product_with_objects(index_copy)
    before = engine.CatalogIndex.load(index_copy)
    others = before.meta[before.meta["product_id"] != product]
    args = ["--index", str(index_copy), "--product", product, "--box", ",".join(map(str, BOX)), "--who", "ana"]
    assert set_box_cli.main(args) == 0
    assert "re-embedded" in capsys.readouterr().out
    after = engine.CatalogIndex.load(index_copy)
    kinds = sorted(after.meta.loc[after.meta["product_id"] == product, "kind"])
    assert kinds == ["curated", "image"]  # the curated box replaces the product's own box; the photo stays
    assert after.meta[after.meta["product_id"] != product]["id"].tolist() == others["id"].tolist()  # ids stable
    assert top(index_copy, product, BOX, capsys)[0] == product
    assert top(index_copy, product, BOX, capsys)[1] >= 0.99
    saved = CuratedBoxes(index_copy).get(product)
    assert saved.who == "ana" and saved.box == BOX and saved.at > 0

    report = build_default(CATALOG, index_copy, tmp_path / "products.csv")  # incremental: nothing to embed
    assert report.embedded == 0
    assert top(index_copy, product, BOX, capsys) == (product, pytest.approx(1.0, abs=0.01))


def test_a_full_rebuild_applies_the_curated_box_again(index_copy, tmp_path, updater, capsys):
    product = product_with_objects(index_copy)
    set_box(index_copy, product, BOX, who="ana", keep_objects=True, updater=updater)
    kinds = engine.CatalogIndex.load(index_copy).meta.query("product_id == @product")["kind"]
    assert sorted(set(kinds)) == ["curated", "image", "object"]  # the product's own box kept on request
    from catalog.build import BuildConfig
    from engine.embedding import EmbeddingConfig
    from engine.embedding.head import default_head_for
    from engine.settings import default_weights

    config = BuildConfig(embedding=EmbeddingConfig().with_head(default_head_for(EmbeddingConfig())), rebuild=True)
    report = build_catalog(CATALOG, index_copy, tmp_path / "products.csv", default_weights(), config, progress=False)
    assert report.embedded == 60
    rebuilt = engine.CatalogIndex.load(index_copy).meta.query("product_id == @product")
    assert sorted(set(rebuilt["kind"])) == ["curated", "image", "object"]
    assert top(index_copy, product, BOX, capsys) == (product, pytest.approx(1.0, abs=0.01))


def test_clear_goes_back_to_detection_and_history_says_who(index_copy, updater):
    product = product_with_objects(index_copy)
    first = engine.CatalogIndex.load(index_copy).meta.query("product_id == @product")
    set_box(index_copy, product, BOX, who="ana", updater=updater)
    assert clear_box(index_copy, product, who="ben", updater=updater)
    again = engine.CatalogIndex.load(index_copy).meta.query("product_id == @product")
    assert sorted(again["kind"]) == sorted(first["kind"])
    assert again[["x0", "y0", "x1", "y1"]].to_numpy() == pytest.approx(first[["x0", "y0", "x1", "y1"]].to_numpy())
    assert CuratedBoxes(index_copy).get(product) is None
    assert [(h[1], h[4]) for h in CuratedBoxes(index_copy).history(product)] == [("set", "ana"), ("clear", "ben")]
    assert read_manifest(index_copy)["n_products"] == 60


def test_bad_boxes_and_unknown_products_are_refused_and_nothing_changes(index_copy, updater, capsys):
    version = (index_copy / "CURRENT").read_text()
    product = product_with_objects(index_copy)
    with pytest.raises(UpdateError, match="less than"):
        set_box(index_copy, product, (400, 400, 500, 500), updater=updater)  # outside the 250x250 photo
    with pytest.raises(UpdateError, match="no product"):
        set_box(index_copy, "no/such", BOX, updater=updater)
    assert set_box_cli.main(["--index", str(index_copy), "--product", "no/such", "--box", "1,1,50,50"]) == 2
    assert "no product" in capsys.readouterr().err
    assert (index_copy / "CURRENT").read_text() == version
    assert CuratedBoxes(index_copy).all() == {}


def test_a_changed_photo_drops_the_curated_box_at_the_next_build(tmp_path, small_products, updater):
    images = tmp_path / "images"
    picked = small_products.head(3)
    for image in picked["image"]:
        (images / image).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CATALOG / image, images / image)
    picked.to_csv(tmp_path / "products.csv", index=False)
    build_default(images, tmp_path / "index", tmp_path / "products.csv")
    product, image = picked.iloc[0][["product_id", "image"]]
    set_box(tmp_path / "index", product, BOX)
    shutil.copyfile(CATALOG / picked.iloc[1]["image"], images / image)  # another photo under the same name
    report = build_default(images, tmp_path / "index", tmp_path / "products.csv")
    assert any("photo changed" in problem for problem in report.problems)
    kinds = engine.CatalogIndex.load(tmp_path / "index").meta.query("product_id == @product")["kind"]
    assert "curated" not in set(kinds)
