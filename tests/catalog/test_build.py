"""The catalogue builder with real YOLO and FAISS on 60 real IKEA images plus broken inputs."""

import shutil

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import engine
from catalog.build import BuildConfig, build_catalog
from catalog.products import read_products
from engine.embedding import EmbeddingConfig
from engine.index.store import read_manifest
from engine.thumbnails import Thumbnails
from tests.conftest import CATALOG


def test_build_reports_bad_files_and_rows_without_stopping(built_index):
    index_dir, report = built_index
    failed = {image for image, _ in report.failures}
    assert failed == {"bad/not-an-image.jpg", "bad/truncated.jpg"}
    problems = " | ".join(report.problems)
    assert "bad/missing.jpg" in problems and "malformed CSV line" in problems and "'n/a'" in problems
    assert report.embedded == 60
    manifest = read_manifest(index_dir)
    assert manifest["n_products"] == 60 and manifest["dim"] == 1280
    assert manifest["detector"]["weights"] == "yolo11n.yaml"
    assert len(manifest["detector"]["weights_sha256"]) == 64


def test_every_catalogue_image_finds_itself_first(service, small_products, small_catalog):
    """Integration bar: querying with each catalogue image returns that product first in >= 95% of cases."""
    hits = 0
    for row in small_products.itertuples():
        image = engine.load_image(small_catalog["images"] / row.image)
        analysis = service.analyse(image)
        matches = service.search_box(analysis, (0, 0, *image.size), k=5)
        hits += matches[0].product_id == row.product_id
    assert hits / len(small_products) >= 0.95


def test_product_columns_are_kept(service):
    row = service.index.meta.iloc[0]
    for column in ("product_id", "name", "category", "price", "currency", "url", "family", "article"):
        assert column in service.index.meta.columns
    assert row["image"].endswith(".jpg")
    assert np.issubdtype(service.index.meta["price"].dtype, np.floating)


def test_rebuild_skips_unchanged_and_drops_deleted(tmp_path, small_catalog, built_index):
    images = tmp_path / "images"
    shutil.copytree(small_catalog["images"], images)
    out = tmp_path / "index"
    shutil.copytree(built_index[0], out)  # start from the session's built index
    table = pd.read_csv(small_catalog["csv"], dtype=str, keep_default_na=False, on_bad_lines="skip")
    table = table[~table["image"].str.startswith("bad/")]
    gone = table["image"].iloc[0]
    (images / gone).unlink()
    first_ids = ids_by_image(engine.CatalogIndex.load(out).meta)
    report = build_catalog(images, out, _write(table.iloc[1:], tmp_path), "yolo11n.yaml", progress=False)
    assert report.embedded == 0 and report.unchanged == 59 and report.removed == 1
    index = engine.CatalogIndex.load(out)
    assert gone not in set(index.meta["image"]) and index.manifest["n_products"] == 59
    assert all(first_ids[image] == ids for image, ids in ids_by_image(index.meta).items())  # ids stable
    assert report.thumbnails == 0 and Thumbnails.of_index(out).stored() == set(index.meta["content_hash"])  # pruned
    shutil.rmtree(Thumbnails.of_index(out).folder)  # an index built before thumbnails were stored
    again = build_catalog(images, out, _write(table.iloc[1:], tmp_path), "yolo11n.yaml", progress=False)
    assert "up to date" in again.index and again.thumbnails == 59
    assert Thumbnails.of_index(out).stored() == set(index.meta["content_hash"])


def test_folder_without_csv_uses_subfolders_as_categories(tmp_path, small_products):
    chairs = small_products[small_products["category"] == "chairs"]["image"].head(3)
    (tmp_path / "chairs").mkdir()
    for image in chairs:
        shutil.copyfile(CATALOG / image, tmp_path / image)
    (tmp_path / "notes.txt").write_text("not an image")
    table = read_products(tmp_path).frame
    assert sorted(table["image"]) == sorted(chairs)
    assert set(table["category"]) == {"chairs"}
    assert set(table["product_id"]) == {image.rsplit(".", 1)[0] for image in chairs}


def _write(table: pd.DataFrame, folder) -> str:
    path = folder / "products.csv"
    table.to_csv(path, index=False)
    return str(path)


def ids_by_image(meta: pd.DataFrame) -> dict[str, list[int]]:
    """Each photo's entry ids, sorted (a product shot has two entries: its box and the whole photo)."""
    return {image: sorted(ids) for image, ids in meta.groupby("image")["id"]}


def test_updates_go_in_place_and_an_index_type_switch_reuses_stored_vectors(tmp_path, small_catalog, built_index):
    images, out = tmp_path / "images", tmp_path / "index"
    shutil.copytree(small_catalog["images"], images)
    shutil.copytree(built_index[0], out)
    table = pd.read_csv(small_catalog["csv"], dtype=str, keep_default_na=False, on_bad_lines="skip")
    csv = _write(table[~table["image"].str.startswith("bad/")], tmp_path)
    before = engine.CatalogIndex.load(out)
    hnsw = BuildConfig(index_factory="HNSW32", index_params={"efSearch": 40})
    switched = build_catalog(images, out, csv, "yolo11n.yaml", hnsw, progress=False)
    assert switched.embedded == 0 and "HNSW32 (rebuilt from stored vectors)" in switched.summary()
    gone, changed = table["image"].iloc[0], table["image"].iloc[1]
    (images / gone).unlink()
    shutil.copyfile(images / table["image"].iloc[2], images / changed)  # new content under an old name
    report = build_catalog(images, out, _write(table.iloc[1:60], tmp_path), "yolo11n.yaml", hnsw, progress=False)
    assert report.embedded == 1 and report.removed == 1 and report.index == "HNSW32 (updated in place)"
    index = engine.CatalogIndex.load(out)
    old_ids, new_ids = ids_by_image(before.meta), ids_by_image(index.meta)
    stale = before.meta.loc[before.meta["image"].isin([gone, changed]), "id"].to_numpy()  # every entry of the two
    info = index.manifest["index"]
    assert info["tombstones"] == len(stale) and info["params"] == {"efSearch": 40, "efConstruction": 100}
    assert min(new_ids[changed]) >= before.next_id  # re-embedded under fresh ids
    same = {image: ids for image, ids in new_ids.items() if image != changed}
    assert all(old_ids[image] == ids for image, ids in same.items()) and gone not in new_ids
    unique = next(ids[0] for image, ids in same.items() if image != table["image"].iloc[2])  # iloc[2]: a tie
    vector = index.vectors(np.array([unique]))
    assert index.search(vector, 1)[1][0, 0] == unique
    assert not np.isin(index.search(vector, len(index))[1], stale).any()


@pytest.mark.integration
def test_hostile_catalogue_files_never_fail_a_build(tmp_path):
    images, outside = tmp_path / "images", tmp_path / "private"
    (images / "chairs").mkdir(parents=True)
    outside.mkdir()
    photo = Image.open(CATALOG / "sofas" / "0.jpg").convert("RGB").resize((160, 120))
    photo.save(images / "chairs" / "ok.jpg")
    photo.save(images / "chairs" / "bad-exif.png", exif=b"Exif\0\0" + bytes(range(40)))  # SyntaxError in Pillow
    photo.save(images / "chairs" / "vector.eps")
    photo.save(outside / "secret.jpg")
    (images / "chairs" / "leak.jpg").symlink_to(outside / "secret.jpg")
    rows = ["chairs/ok.jpg", "chairs/bad-exif.png", "chairs/vector.eps", "../private/secret.jpg", "chairs/leak.jpg"]
    csv = tmp_path / "products.csv"
    pd.DataFrame({"image": rows, "category": "chairs"}).to_csv(csv, index=False)
    config = BuildConfig(embedding=EmbeddingConfig(name="color-hist"))
    report = build_catalog(images, tmp_path / "index", csv, "yolo11n.yaml", config, progress=False)
    indexed = set(engine.CatalogIndex.load(tmp_path / "index").meta["image"])
    assert indexed == {"chairs/ok.jpg", "chairs/bad-exif.png"}
    assert [image for image, _ in report.failures] == ["chairs/vector.eps"]
    assert sum("outside" in problem for problem in report.problems) == 2
