"""Product shots (one product on white) are indexed by their non-white box and the whole photo, without the detector."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

import engine
from catalog.build import BuildConfig, build_catalog
from catalog.taxonomy import coarse_class
from engine.detection.detector import Detector
from engine.index.backends import load_index
from engine.search.query import product_shot_box
from tests.catalog.conftest import FEW_WEIGHTS
from tests.conftest import CATALOG, ROOMS, TEST_ROOM

pytestmark = pytest.mark.slow


@pytest.fixture
def mixed_catalogue(tmp_path, small_products):
    """Six product shots and one room photo (not a product shot), with categories."""
    if not ROOMS.is_dir():
        pytest.skip(f"no rooms at {ROOMS}")
    picked = small_products.groupby("category").head(1).copy()
    for image in picked["image"]:
        (tmp_path / image).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CATALOG / image, tmp_path / image)
    shutil.copyfile(ROOMS / TEST_ROOM, tmp_path / "room.jpg")
    room = {"product_id": "room", "image": "room.jpg", "category": "chairs", "name": "A room"}
    pd.concat([picked, pd.DataFrame([room])]).to_csv(tmp_path / "products.csv", index=False)
    return tmp_path, picked


def test_only_photos_that_are_not_product_shots_reach_the_detector(mixed_catalogue, tmp_path, monkeypatch):
    images, picked = mixed_catalogue
    detected = []
    analyse = Detector.analyse

    def counting(self, photos, *args, **kwargs):
        detected.extend(photo.size for photo in photos)
        return analyse(self, photos, *args, **kwargs)

    monkeypatch.setattr(Detector, "analyse", counting)
    build_catalog(images, tmp_path / "index", images / "products.csv", FEW_WEIGHTS, BuildConfig(), progress=False)
    room_size = engine.load_image(images / "room.jpg").size
    assert detected == [room_size]  # one detector call, on the room photo alone
    meta = load_index(tmp_path / "index").meta
    for _, product in picked.iterrows():
        rows = meta[meta["image"] == product["image"]]
        assert sorted(rows["kind"]) == ["image", "object"]  # the product's box and the whole photo, no detections
        own = rows[rows["kind"] == "object"]
        assert own["class_name"].iloc[0] == coarse_class(product["category"])
        photo = engine.load_image(images / product["image"])
        assert tuple(own[["x0", "y0", "x1", "y1"]].iloc[0]) == pytest.approx(product_shot_box(photo))
    assert "image" in set(meta.loc[meta["image"] == "room.jpg", "kind"])  # the room keeps its whole-photo entry


def test_a_product_photo_finds_itself_first_through_the_same_box(mixed_catalogue, tmp_path):
    images, picked = mixed_catalogue
    build_catalog(images, tmp_path / "index", images / "products.csv", FEW_WEIGHTS, BuildConfig(), progress=False)
    service = engine.load(tmp_path / "index", weights=FEW_WEIGHTS)
    for image, product_id in zip(picked["image"], picked["product_id"]):
        analysis = service.analyse(engine.load_image(images / image))
        matches, box, why = service.search_photo(analysis, k=3)
        assert why.startswith("product photo") and matches[0].product_id == product_id
        assert matches[0].similarity == pytest.approx(1.0, abs=1e-3)  # the very entry the build made
