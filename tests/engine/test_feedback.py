"""Curator feedback in SQLite: marks survive reopening, verdicts are validated, triplets follow the marks."""

import pytest
from PIL import Image

from engine.feedback import FILENAME, NOT_SIMILAR, SIMILAR, FeedbackStore


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
