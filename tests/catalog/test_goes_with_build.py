"""'Goes well with' built with real indexes: rooms stored by the build, kept by updates, edits in the app."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from catalog.build import build_catalog
from catalog.manage import add_products, remove_products
from catalog.updater import Updater
from catalog.uploads import one_product
from engine.index.backends import load_index
from engine.index.store import current_version, read_manifest
from engine.search import goes_with_for
from engine.search.goes_with import ROOMS_COLUMN, parse_rooms
from scripts import goes_with as cli
from tests.conftest import ROOMS, TEST_ROOM

ROOM_NAME = TEST_ROOM.rsplit("/", 1)[-1]


@pytest.fixture
def room_copy(room_index, tmp_path) -> Path:
    """A copy of the real-path index (its rooms.csv found in the ikea-rooms folder) that a test may edit."""
    return Path(shutil.copytree(room_index["index"], tmp_path / "index"))


def room_rows(index_dir: Path) -> pd.DataFrame:
    """One metadata row per product of TEST_ROOM."""
    meta = load_index(index_dir).meta.drop_duplicates("product_id")
    return meta[meta[ROOMS_COLUMN].map(lambda value: ROOM_NAME in parse_rooms(value))]


def test_the_build_stores_each_products_room_photos_and_an_update_keeps_them(room_index, tmp_path):
    facts = read_manifest(room_index["index"])["rooms"]
    assert Path(facts["rooms_csv"]).resolve() == (ROOMS / "rooms.csv").resolve() and facts["room_photos"] > 1
    listed = set(pd.read_csv(ROOMS / "rooms.csv").set_index("image").loc[TEST_ROOM, "products"].split())
    assert set(room_rows(room_index["index"])["image"]) == listed
    copy = Path(shutil.copytree(room_index["index"], tmp_path / "index"))
    before = current_version(copy)
    products = room_index["products"]
    products.to_csv(tmp_path / "products.csv", index=False)
    build_catalog(ROOMS, copy, tmp_path / "products.csv", config=_config(copy), progress=False)
    assert current_version(copy) == before  # nothing changed: no new version
    build_catalog(ROOMS, copy, tmp_path / "products.csv", config=_config(copy, rooms="none"), progress=False)
    assert current_version(copy) != before and room_rows(copy).empty  # without rooms: a new version, no lists
    assert read_manifest(copy)["rooms"] == {"room_photos": 0}
    assert goes_with_for(load_index(copy)).n_rooms == 0


def _config(index_dir: Path, **changes):
    """The build config an index was made with (as `Updater.for_index` reads it), with changes."""
    from dataclasses import replace

    return replace(Updater.for_index(index_dir).config, **changes)


def test_a_product_added_in_the_app_appears_and_a_removed_one_goes(room_copy):
    meta = load_index(room_copy).meta.drop_duplicates("product_id").set_index("product_id")
    model = goes_with_for(load_index(room_copy))
    query = room_rows(room_copy).iloc[0]
    first = model.suggest([query["product_id"]], k=10)[0]
    rooms = set(parse_rooms(meta.loc[first.product_id, ROOMS_COLUMN]))
    assert first.why == "in room photos with it" and rooms & set(parse_rooms(query[ROOMS_COLUMN]))
    roommates = {pid for pid, value in meta[ROOMS_COLUMN].items() if rooms & set(parse_rooms(value))}
    photo = (ROOMS / first.image).read_bytes()  # a second product with the same look, in no room photo
    added = one_product(photo, {"name": "ADDED TWIN", "category": first.category}, room_copy, set())
    report = add_products(room_copy, [added], who="ana")
    assert report.done == [added["product_id"]]
    model = goes_with_for(load_index(room_copy))
    assert added["product_id"] in {s.product_id for s in model.suggest([query["product_id"]], k=10)}
    borrowed = {s.product_id for s in model.suggest([added["product_id"]], k=10)}  # in no photo: its lookalike's
    assert borrowed & (roommates - {first.product_id})
    remove_products(room_copy, [first.product_id], who="ben")
    model = goes_with_for(load_index(room_copy))
    assert first.product_id not in {s.product_id for s in model.suggest([query["product_id"]], k=30)}


def test_a_catalogue_without_rooms_suggests_by_style_and_the_cli_prints_json(built_index, capsys):
    index_dir = built_index[0]
    assert read_manifest(index_dir)["rooms"] == {"room_photos": 0}
    model = goes_with_for(load_index(index_dir))
    assert model.n_rooms == 0 and "no room photos" in model.source
    meta = load_index(index_dir).meta.drop_duplicates("product_id")
    sofa = meta[meta["category"] == "sofas"]["product_id"].iloc[0]
    suggestions = model.suggest([sofa], k=5)
    assert len(suggestions) == 5 and all(s.category != "sofas" for s in suggestions)

    assert cli.main(["--index", str(index_dir), "--product", sofa, "no/such", "--k", "3", "--json"]) == 0
    out = capsys.readouterr()
    printed = json.loads(out.out)
    assert list(printed) == [sofa, "no/such"] and printed["no/such"] == [] and "no/such" in out.err
    assert [s["rank"] for s in printed[sofa]] == [1, 2, 3]
    assert set(printed[sofa][0]) == {"rank", "product_id", "name", "category", "score"}
    assert cli.main(["--index", str(index_dir), "--product", "no/such"]) == 1
    assert cli.main(["--index", str(index_dir / "missing"), "--product", sofa]) == 2
