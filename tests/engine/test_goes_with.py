"""'Goes well with' from the real ikea-rooms rooms.csv rows: who shares a photo, kinds, fallbacks, no rooms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from catalog.rooms import find_rooms_csv, with_rooms
from engine.search.goes_with import ROOMS_COLUMN, GoesWith, Profiles, format_rooms, parse_rooms
from tests.conftest import ROOMS, TEST_ROOM

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (ROOMS / "rooms.csv").is_file(), reason=f"no rooms.csv at {ROOMS}"),
]
DIM = 8


@pytest.fixture(scope="module")
def rooms_table() -> pd.DataFrame:
    return pd.read_csv(ROOMS / "rooms.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def products() -> pd.DataFrame:
    """The real ikea-rooms product table with the room lists a build stores (from the real rooms.csv)."""
    table = pd.read_csv(ROOMS / "products.csv", dtype=str, keep_default_na=False)
    frame, found = with_rooms(table, find_rooms_csv("auto", ROOMS, ROOMS / "products.csv"))
    assert found.problems == [] and found.facts["room_photos"] == 103
    return frame


def model_of(frame: pd.DataFrame, vectors: np.ndarray | None = None) -> GoesWith:
    """A model over product rows as a built index holds them (one whole-photo entry each)."""
    meta = frame.assign(id=np.arange(len(frame), dtype=np.int64), kind="image")
    vectors = np.zeros((len(frame), DIM), dtype=np.float32) if vectors is None else vectors
    return GoesWith(Profiles.from_meta(meta, lambda ids: vectors[ids]))


def room_products(rooms_table: pd.DataFrame, products: pd.DataFrame, room: str) -> pd.DataFrame:
    """The catalogue rows of the products a room photo lists."""
    listed = rooms_table.loc[rooms_table["image"] == room, "products"].iloc[0].split()
    return products[products["image"].isin(listed)]


def test_each_product_lists_exactly_the_real_photos_that_show_it(rooms_table, products):
    in_room = room_products(rooms_table, products, TEST_ROOM)
    assert len(in_room) >= 8
    name = TEST_ROOM.rsplit("/", 1)[-1]
    assert all(name in parse_rooms(value) for value in in_room[ROOMS_COLUMN])
    counted = sum(len(parse_rooms(v)) for v in products[ROOMS_COLUMN])
    assert counted == sum(len(row.split()) for row in rooms_table["products"])  # every listed product, once


def test_co_occurrence_counts_shared_photos(rooms_table, products):
    model = model_of(products)
    assert model.n_rooms == 103 and "103 room photos" in model.source
    in_room = room_products(rooms_table, products, TEST_ROOM)
    first = model.position[in_room["product_id"].iloc[0]]
    anchors = np.zeros(len(products), dtype=np.float32)
    anchors[first] = 1.0
    together = model.rooms.together(anchors)
    roommates = [model.position[pid] for pid in in_room["product_id"]]
    assert (together[roommates] > 0).all()
    strangers = np.setdiff1d(np.arange(len(products)), roommates)
    share = model.rooms.incidence[strangers] @ model.rooms.incidence[first]
    assert (together[strangers] > 0).sum() == (share > 0).sum()  # only products sharing some photo score


def test_suggestions_are_roommates_of_other_kinds(rooms_table, products):
    model = model_of(products)
    in_room = room_products(rooms_table, products, TEST_ROOM)
    query = in_room.iloc[0]
    suggestions = model.suggest([query["product_id"]], k=10)
    assert len(suggestions) == 10 and [s.rank for s in suggestions] == list(range(1, 11))
    assert all(s.category != query["category"] for s in suggestions)
    assert query["product_id"] not in {s.product_id for s in suggestions}
    found = {s.product_id for s in suggestions} & set(in_room["product_id"])
    assert found, "no product of the query's own room photo among its suggestions"
    assert any(s.why == "in room photos with it" for s in suggestions)


def test_a_product_in_no_photo_borrows_the_rooms_of_its_lookalikes(rooms_table, products):
    in_room = room_products(rooms_table, products, TEST_ROOM)
    roommate = in_room.iloc[0]
    twin = {**roommate.to_dict(), "product_id": "added/twin", "image": "@managed/twin.jpg", "name": "TWIN"}
    frame = pd.concat([products, pd.DataFrame([twin])], ignore_index=True)
    frame.loc[frame["product_id"] == "added/twin", ROOMS_COLUMN] = format_rooms([])
    vectors = np.random.default_rng(0).normal(size=(len(frame), DIM)).astype(np.float32)
    vectors[len(frame) - 1] = vectors[frame.index[frame["product_id"] == roommate["product_id"]][0]]  # its lookalike
    model = model_of(frame, vectors)
    twin_ids = {s.product_id for s in model.suggest(["added/twin"], k=10)}
    assert twin_ids & set(in_room["product_id"]), "the twin's suggestions ignore its lookalike's room photo"


def test_a_catalogue_without_rooms_ranks_by_style_and_says_so(products):
    model = model_of(products.drop(columns=ROOMS_COLUMN))
    assert model.n_rooms == 0 and "no room photos" in model.source
    hemnes = products[(products["name"] == "HEMNES")]
    query = hemnes.iloc[0]
    suggestions = model.suggest([query["product_id"]], k=5)
    assert len(suggestions) == 5 and all(s.category != query["category"] for s in suggestions)
    assert all(s.name == "HEMNES" and s.why == "same collection" for s in suggestions[:3])


def test_unknown_anchors_and_malformed_room_lists_are_ignored(products):
    values = ["not json", "[1, 2]", '{"a": 1}', "[", None]
    broken = products.assign(**{ROOMS_COLUMN: [values[i % len(values)] for i in range(len(products))]})
    assert model_of(broken).n_rooms == 0
    assert parse_rooms('["a.jpg", 3, ""]') == ["a.jpg"] and parse_rooms(float("nan")) == []
    assert model_of(products).suggest(["no-such-product"]) == []
    assert model_of(products).suggest({"no-such-product": 1.0, products["product_id"].iloc[0]: 0.0}) == []
