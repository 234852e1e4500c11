"""Curator feedback in SQLite: marks survive reopening, verdicts are validated, triplets follow the marks."""

import io
import sqlite3

import pytest
from PIL import Image

from engine.curation.feedback import FILENAME, NOT_SIMILAR, SCHEMA, SIMILAR, FeedbackStore


def crop(colour) -> Image.Image:
    return Image.new("RGB", (40, 30), colour)


def test_marks_and_crops_survive_reopening(tmp_path):
    store = FeedbackStore(tmp_path)
    query = store.add_query(crop((200, 10, 10)), source="shop", box=(1, 2, 41, 32), embedding="effnet-crop")
    assert store.add_query(crop((200, 10, 10))) == query  # the same crop is one query
    store.mark(query, "sofas/1", SIMILAR, rank=1, score=0.9)
    store.mark(query, "sofas/2", NOT_SIMILAR, rank=2, score=0.8)
    store.choose(query, "sofas/1")
    del store

    reopened = FeedbackStore(tmp_path)
    assert (tmp_path / FILENAME).is_file()
    marks = {m.product_id: m for m in reopened.marks(query)}
    assert marks["sofas/1"].verdict == SIMILAR and marks["sofas/1"].chosen and marks["sofas/1"].rank == 1
    assert marks["sofas/2"].verdict == NOT_SIMILAR and not marks["sofas/2"].chosen
    assert reopened.crop(query).getpixel((5, 5)) == (200, 10, 10)
    assert reopened.find_query(crop((200, 10, 10))) == query and reopened.find_query(crop((0, 0, 0))) is None


def test_changing_a_mark_and_the_chosen_pair(tmp_path):
    store = FeedbackStore(tmp_path)
    query = store.add_query(crop((0, 90, 0)))
    store.mark(query, "a", SIMILAR, rank=1)
    store.mark(query, "a", NOT_SIMILAR)  # changed mind; the rank is kept
    store.choose(query, "b")
    store.choose(query, "c")  # one chosen pair per query
    marks = {m.product_id: m for m in store.marks(query)}
    assert marks["a"].verdict == NOT_SIMILAR and marks["a"].rank == 1
    assert not marks["b"].chosen and marks["c"].chosen and marks["c"].verdict is None
    with pytest.raises(ValueError, match="verdict"):
        store.mark(query, "a", "maybe")


def test_triplets_pair_every_positive_with_every_negative(tmp_path):
    store = FeedbackStore(tmp_path)
    first, second = store.add_query(crop((1, 1, 1))), store.add_query(crop((2, 2, 2)))
    store.mark(first, "p1", SIMILAR)
    store.choose(first, "p2")  # chosen counts as similar
    store.mark(first, "n1", NOT_SIMILAR)
    store.mark(first, "u", None)  # unmarked: ignored
    store.mark(second, "p1", SIMILAR)  # no negative: no triplet
    assert sorted(store.triplets()) == [(first, "p1", "n1"), (first, "p2", "n1")]


def test_saving_a_session_is_one_transaction(tmp_path):
    store = FeedbackStore(tmp_path)
    query = store.save_marks(crop((5, 5, 5)), [("a", SIMILAR, 1, 0.9), ("b", NOT_SIMILAR, 2, 0.8)], chosen="a")
    before = store.marks()
    assert {(m.product_id, m.verdict, m.chosen) for m in before} == {("a", SIMILAR, True), ("b", NOT_SIMILAR, False)}

    change = [("a", NOT_SIMILAR, 1, 0.9), ("c", SIMILAR, 3, 0.7), (None, SIMILAR, 4, 0.6)]  # NOT NULL fails last
    with pytest.raises(sqlite3.IntegrityError):
        store.save_marks(crop((5, 5, 5)), change, chosen="c")
    assert store.marks() == before  # neither the changed mark, the new one nor the new chosen pair
    with pytest.raises(sqlite3.IntegrityError):
        store.save_marks(crop((6, 6, 6)), change, chosen=None)
    assert store.find_query(crop((6, 6, 6))) is None and store.marks() == before  # not even the query crop
    with pytest.raises(ValueError, match="verdict"):
        store.save_marks(crop((7, 7, 7)), [("a", SIMILAR, 1, 0.9), ("b", "maybe", 2, 0.8)], chosen=None)
    assert store.find_query(crop((7, 7, 7))) is None
    assert store.save_marks(crop((5, 5, 5)), [("a", None, 1, 0.9)], chosen=None) == query
    after = {(m.product_id, m.verdict, m.chosen) for m in store.marks()}
    assert after == {("a", None, False), ("b", NOT_SIMILAR, False)}


def test_review_table_joins_marks_with_their_queries_newest_first(tmp_path):
    store = FeedbackStore(tmp_path)
    first = store.save_marks(crop((1, 2, 3)), [("a", SIMILAR, 1, 0.9), ("b", None, 2, 0.8)], "b", source="shop")
    second = store.save_marks(crop((4, 5, 6)), [("c", NOT_SIMILAR, 1, 0.7)], None, box=(1, 2, 3, 4))
    table = store.review_table()
    assert list(table["query_id"]) == [second, first, first]
    assert list(table.columns) == [
        "query_id", "product_id", "verdict", "chosen", "rank", "score", "updated", "who", "created", "source",
        "box", "embedding",
    ]  # fmt: skip
    rows = table.set_index("product_id")
    assert rows.loc["a", "verdict"] == SIMILAR and not rows.loc["a", "chosen"] and rows.loc["a", "rank"] == 1
    assert rows.loc["b", "verdict"] == "" and rows.loc["b", "chosen"] and rows.loc["b", "score"] == 0.8
    assert rows.loc["c", "box"] == "1.0,2.0,3.0,4.0" and rows.loc["a", "source"] == "shop"
    assert str(table["updated"].dt.tz) == "UTC"
    assert FeedbackStore(tmp_path / "empty").review_table().empty


def test_marks_record_the_curator_who_saved_them_last(tmp_path):
    store = FeedbackStore(tmp_path)
    query = store.save_marks(crop((3, 3, 3)), [("a", SIMILAR, 1, 0.9), ("b", None, 2, 0.8)], "a", who="Ana")
    assert {m.product_id: m.who for m in store.marks(query)} == {"a": "Ana", "b": "Ana"}
    store.save_marks(crop((3, 3, 3)), [("b", NOT_SIMILAR, 2, 0.8)], None, who="Bo")  # Bo changes one mark
    assert {m.product_id: m.who for m in store.marks(query)} == {"a": "Ana", "b": "Bo"}
    store.mark(query, "c", SIMILAR, who="Cy")
    store.choose(query, "d", who="Di")
    table = store.review_table().set_index("product_id")
    assert table["who"].to_dict() == {"a": "Ana", "b": "Bo", "c": "Cy", "d": "Di"}


def test_a_file_from_before_curator_names_keeps_its_marks_and_gains_the_column(tmp_path):
    old_schema = SCHEMA.replace("    who TEXT NOT NULL DEFAULT '',\n", "")
    assert "who" not in old_schema
    with sqlite3.connect(tmp_path / FILENAME) as db:
        db.executescript(old_schema)
        db.execute("INSERT INTO queries (created, crop_sha1, crop_png) VALUES (1.0, 'x', x'00')")
        db.execute("INSERT INTO marks (query_id, product_id, verdict, updated) VALUES (1, 'old', 'similar', 1.0)")
    db.close()
    store = FeedbackStore(tmp_path)
    assert [(m.product_id, m.verdict, m.who) for m in store.marks()] == [("old", SIMILAR, "")]
    store.mark(1, "new", NOT_SIMILAR, who="Ana")
    assert {m.product_id: m.who for m in FeedbackStore(tmp_path).marks()} == {"old": "", "new": "Ana"}


def test_crops_returns_png_bytes_per_query(tmp_path):
    store = FeedbackStore(tmp_path)
    query = store.add_query(crop((9, 99, 199)))
    crops = store.crops([query, query, 12345])
    assert set(crops) == {query}
    assert Image.open(io.BytesIO(crops[query])).getpixel((3, 3)) == (9, 99, 199)
    assert store.crops([]) == {}
