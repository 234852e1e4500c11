"""Mining scene -> product pairs from real room photos with the shipped detector, embedding and head."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import engine
from scripts import mine_room_pairs
from tests.conftest import ROOMS, TEST_ROOM
from training.benchmark import query_detector
from training.detector.rooms import room_split
from training.room_pairs import MiningConfig, assign, dev_rooms, mine_pairs, pair_vectors, quality


@pytest.fixture(scope="module")
def rooms_dir(one_room_dir):
    return one_room_dir


@pytest.fixture(scope="module")
def mined(room_index, rooms_dir):
    service = engine.load(room_index["index"])
    detector = query_detector(service, {"conf": 0.01, "max_det": 25})
    config = MiningConfig(part="all", max_rank=50, min_score=0.0)
    return service, mine_pairs(service, detector, rooms_dir, config, progress=False)


def test_pairs_match_listed_products_one_box_each(mined, room_index):
    service, (pairs, candidates, rooms) = mined
    listed = set(pd.read_csv(ROOMS / "rooms.csv").set_index("image").at[TEST_ROOM, "products"].split())
    listed_ids = set(room_index["products"].loc[room_index["products"]["image"].isin(listed), "product_id"])
    assert len(pairs) >= 3 and set(pairs["product_id"]) <= listed_ids
    assert not pairs.duplicated("product_id").any() and not pairs.duplicated(["x0", "y0", "x1", "y1"]).any()
    assert pairs["rank"].le(50).all() and (pairs["rank"] >= 1).all()
    room = rooms[TEST_ROOM]
    assert len(candidates) == len(room.boxes) * candidates["product_id"].nunique()
    # the room shows dining chairs: at least one chair box is paired with a product of a chair category
    chairs = pairs[pairs["box_class"] == "chair"]
    categories = room_index["products"].set_index("product_id")["category"]
    assert any("chair" in categories[p].lower() for p in chairs["product_id"])


def test_a_pair_scores_its_box_as_the_model_does(mined):
    service, (pairs, _, rooms) = mined
    pair = pairs.iloc[0]
    analysis = service.analyse(engine.load_image(ROOMS / TEST_ROOM))
    vector = service.embed(analysis, (pair.x0, pair.y0, pair.x1, pair.y1))
    meta = service.index.meta
    entries = service.index.vectors(meta.loc[meta["product_id"] == pair.product_id, "id"].to_numpy())
    assert float((entries @ vector).max()) == pytest.approx(pair.score, abs=1e-4)


def test_stricter_thresholds_keep_fewer_pairs(mined):
    _, (pairs, candidates, _) = mined
    strict = assign(candidates, MiningConfig(max_rank=1, min_score=0.0))
    assert len(strict) < len(pairs) and strict["rank"].eq(1).all()
    assert assign(candidates, MiningConfig(min_score=2.0)).empty  # cosines never reach 2


def test_pair_vectors_are_the_box_and_another_box_of_the_photo(mined):
    _, (pairs, _, rooms) = mined
    positives, negatives = pair_vectors(pairs, rooms)
    room = rooms[TEST_ROOM]
    assert positives.shape == negatives.shape == (len(pairs), room.base.shape[1])
    for positive, negative in zip(positives, negatives):
        assert not np.allclose(positive, negative)
        assert np.isclose(room.base @ negative, 1.0, atol=1e-4).any()  # a real box of the same photo


def test_quality_report_adds_up(mined):
    _, (pairs, candidates, rooms) = mined
    report = quality(pairs, candidates, len(rooms))
    assert report["rooms"] == 1 and report["pairs"] == len(pairs)
    assert report["pair_share"] == round(len(pairs) / report["listed_products_with_boxes"], 3)
    assert sum(report["box_classes"].values()) == len(pairs)


def test_script_writes_pairs_vectors_report_and_sheet(room_index, rooms_dir, tmp_path):
    out, sheet = tmp_path / "pairs", tmp_path / "sheet.png"
    args = ["--index", str(room_index["index"]), "--rooms", str(rooms_dir), "--out", str(out), "--part", "all"]
    assert mine_room_pairs.main(args + ["--max-rank", "50", "--sheet", str(sheet), "--quiet"]) == 0
    pairs = pd.read_csv(out / "pairs.csv")
    assert len(pairs) == len(np.load(out / "base.npy")) == len(np.load(out / "negatives.npy")) > 0
    assert json.loads((out / "quality.json").read_text())["pairs"] == len(pairs)
    boxes, rooms = np.load(out / "boxes.npz"), json.loads((out / "rooms.json").read_text())
    assert [r["image"] for r in rooms] == [TEST_ROOM] and set(pairs["product_id"].astype(str)) <= set(
        rooms[0]["listed"]
    )
    assert len(boxes["base"]) == len(boxes["room"]) == len(boxes["box_class"]) > len(pairs)
    assert sheet.stat().st_size > 5_000


@pytest.mark.integration
def test_every_dev_photo_is_in_exactly_one_part():
    rooms = pd.read_csv(ROOMS / "rooms.csv", dtype=str, keep_default_na=False)
    parts = {part: {row["image"] for row in dev_rooms(ROOMS, part)} for part in ("fit", "val", "heldout", "train")}
    assert parts["fit"] | parts["val"] == parts["train"] and not parts["fit"] & parts["val"]
    assert not parts["train"] & parts["heldout"] and parts["train"] | parts["heldout"] == set(rooms["image"])
    assert parts["heldout"] == {image for image in rooms["image"] if room_split(image) == "heldout"}  # the benchmark's
    assert all(len(parts[p]) >= 10 for p in ("fit", "val", "heldout"))
