"""Shop the whole room: the committed detector on a real room, every distinct object with its best match."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine.detection.distinct import distinct_detections
from engine.search.products import SearchFilters
from engine.search.room import room_hotspots

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def room(room_index):
    service = engine.load(room_index["index"])
    analysis = service.analyse(engine.load_image(room_index["room"]))
    return service, analysis


def test_every_distinct_object_gets_the_match_a_click_would_give(room):
    service, analysis = room
    hotspots = room_hotspots(service, analysis)
    shown, _ = distinct_detections(analysis.detections)
    assert 1 <= len(hotspots) == len(shown)
    assert [h.box for h in hotspots] == [tuple(analysis.detections[i].box) for i in shown]
    for hotspot in hotspots:  # batched embedding == one box at a time, and the same first product as a click
        assert np.allclose(hotspot.vector, service.embed(analysis, hotspot.box), atol=1e-4)
        clicked = service.search_box(analysis, hotspot.box, k=1)[0]
        assert hotspot.match.product_id == clicked.product_id
        assert hotspot.match.score == pytest.approx(clicked.score, abs=1e-4)
        x, y = hotspot.centre(analysis.image.size)
        assert 0 < x < 1 and 0 < y < 1
    assert hotspots[0].label.startswith(hotspots[0].class_name + " 0.")


def test_limit_and_filters(room):
    service, analysis = room
    assert len(room_hotspots(service, analysis, limit=2)) == min(2, len(room_hotspots(service, analysis)))
    nothing = room_hotspots(service, analysis, SearchFilters(categories=("no such category",)))
    assert nothing and all(h.match is None for h in nothing)


def test_a_photo_without_detections_has_no_hotspots(room):
    service, analysis = room
    analysis.detections, saved = [], analysis.detections
    try:
        assert room_hotspots(service, analysis) == []
    finally:
        analysis.detections = saved
