"""Adding and removing products in place on the real default index; later builds keep the edits."""

import shutil
from pathlib import Path

import pytest

import engine
from catalog.manage import add_products, remove_products
from catalog.updater import Updater
from catalog.uploads import read_batch
from engine.curation.catalogue_files import managed_dir
from engine.curation.managed_products import ManagedProducts
from engine.index.store import read_manifest
from tests.catalog.test_uploads import zipped
from tests.conftest import ROOMS, build_default


@pytest.fixture
def index_copy(tmp_path, default_catalog_index):
    shutil.copy(default_catalog_index.parent / "products.csv", tmp_path / "products.csv")
    return Path(shutil.copytree(default_catalog_index, tmp_path / "index"))


def new_products(index_dir):
    photos = sorted((ROOMS / "products").glob("*.jpg"))[:2]
    csv = "product_id,image,name,category,price\n" + "".join(
        f"room/{p.stem},{p.name},Room product {p.stem},lamps,{100 + i}\n" for i, p in enumerate(photos)
    )
    batch = read_batch(csv.encode(), zipped({p.name: p.read_bytes() for p in photos}), index_dir, set())
    assert not batch.problems
    return batch.products, photos


def test_add_then_remove_in_place_and_a_rebuild_keeps_both_edits(index_copy, tmp_path, default_catalog_index):
    updater = Updater.for_index(default_catalog_index)
    products, photos = new_products(index_copy)
    steps = []
    report = add_products(index_copy, products, who="ana", updater=updater, progress=lambda *a: steps.append(a))
    assert report.done == ["room/" + photos[0].stem, "room/" + photos[1].stem] and not report.refused
    assert steps[-1] == (2, 2)
    service = engine.load(index_copy)
    assert read_manifest(index_copy)["n_products"] == 62
    added = service.index.meta[service.index.meta["product_id"] == "room/" + photos[0].stem]
    assert sorted(added["kind"]) == ["image", "object"] and added["colors"].notna().all()  # a product shot
    assert added.loc[added["kind"] == "object", "class_name"].iloc[0] == "lamp"  # the class of its category
    analysis = service.analyse(engine.load_image(photos[0]))
    matches, _, _ = service.search_photo(analysis, k=3)
    assert matches[0].product_id == "room/" + photos[0].stem and matches[0].price == 100.0
    assert service.image_path(matches[0].image).parent == managed_dir(index_copy)
    assert service.thumbnails.jpeg(matches[0].content_hash) is not None  # its grid thumbnail is stored at once

    again = add_products(index_copy, products[:1], updater=updater)  # the same id (and photo) again
    assert again.done == [] and "already" in again.refused[0][1]

    catalogue_product = service.index.meta["product_id"].iloc[0]
    removed = remove_products(index_copy, [catalogue_product, products[1]["product_id"], "no/such"], who="ben")
    assert removed.done == [catalogue_product, products[1]["product_id"]] and removed.refused[0][0] == "no/such"
    left = set(engine.CatalogIndex.load(index_copy).meta["product_id"])
    assert catalogue_product not in left and products[1]["product_id"] not in left and products[0]["product_id"] in left
    assert len(list(managed_dir(index_copy).iterdir())) == 1  # the removed product's photo went with it

    report = build_default(ROOMS.parent / "ikea-catalog", index_copy, tmp_path / "products.csv")
    assert report.embedded == report.viewed == 0  # nothing new: the edits (and their views) are kept as they are
    after = set(engine.CatalogIndex.load(index_copy).meta["product_id"])
    assert after == left
    history = [(h[0], h[1], h[2]) for h in ManagedProducts(index_copy).history()]
    assert ("room/" + photos[0].stem, "add", "ana") in history and (catalogue_product, "remove", "ben") in history
