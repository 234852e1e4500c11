"""AppTest: shop the whole room. Sample-room links are checked against the sample rooms; the committed detector on
a real room gives the component one hotspot per distinct object, each with its best match, as plain text."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import engine
from engine.search.products import Match
from engine.search.room import Hotspot, room_hotspots
from engine.settings import sample_rooms_dir
from pages.shared import sample_rooms
from tests.app.test_pages import APP, TIMEOUT


def open_room(photo: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    if photo is not None:
        at.query_params["photo"] = photo
    at.switch_page("pages/room.py").run()
    assert not at.exception, at.exception
    return at


def component_args(at: AppTest) -> dict:
    """The arguments the page gave the hotspot component."""
    (element,) = at.get("component_instance")
    assert element.proto.component_name.endswith("room_hotspots")
    return json.loads(element.proto.json_args)


@pytest.fixture
def small_env(monkeypatch, built_index):
    monkeypatch.setenv("LOOKALIKE_INDEX", str(built_index[0]))
    import streamlit as st

    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_without_a_link_the_first_sample_opens_and_the_url_names_it(small_env):
    at = open_room()
    first = next(iter(sample_rooms()))
    assert at.selectbox(key="room-sample").value == first
    assert at.query_params["photo"] == first
    assert "No object was found" in at.warning[0].value  # random detector weights find nothing


def test_a_sample_link_opens_that_room_and_a_pick_updates_the_link(small_env):
    names = list(sample_rooms())
    at = open_room(names[3])
    assert at.selectbox(key="room-sample").value == names[3]
    at.selectbox(key="room-sample").set_value(names[5]).run()
    assert at.query_params["photo"] == names[5]
    assert at.selectbox(key="room-sample").value == names[5]


@pytest.mark.parametrize("bad", ["../../../../etc/passwd", "rooms.csv", "**[x](javascript:alert(1))**", "a\n\nb"])
def test_a_bad_link_is_shown_as_text_and_nothing_is_read(small_env, bad):
    assert not (sample_rooms_dir() / bad).is_file() or not bad.endswith(".jpg")
    at = open_room(bad)
    message = at.error[0].value
    assert message.startswith("There is no sample room")
    assert "[x](javascript" not in message and "\n" not in message  # markdown-escaped, one line
    assert at.selectbox(key="room-sample").value is None
    assert not at.get("component_instance") and not [w for w in at.warning if "No object" in w.value]


def test_upload_drops_the_sample_link(small_env):
    at = open_room(next(iter(sample_rooms())))
    at.radio(key="room-source").set_value("Upload").run()
    assert "photo" not in at.query_params


@pytest.mark.slow
def test_real_room_hotspots_are_the_engine_s_with_their_best_match(monkeypatch, room_index):
    monkeypatch.setenv("LOOKALIKE_INDEX", str(room_index["index"]))
    import streamlit as st

    st.cache_resource.clear()
    at = open_room(room_index["room"].name)
    args = component_args(at)
    service = engine.load(room_index["index"])
    image = engine.load_image(room_index["room"])
    expected = room_hotspots(service, service.analyse(image))
    assert len(args["hotspots"]) == len(expected) >= 1
    for spot, hotspot in zip(args["hotspots"], expected):
        assert (spot["x"], spot["y"]) == pytest.approx(hotspot.centre(image.size), abs=1e-4)
        assert spot["label"] == hotspot.label and spot["name"] == (hotspot.match.name or hotspot.match.product_id)
        assert spot["thumb"].startswith("data:image/jpeg;base64,")
    assert args["photo"].startswith("data:image/jpeg;base64,")
    assert args["aspect"] == pytest.approx(image.width / image.height)
    assert f"{len(expected)} objects" in at.caption[0].value
    st.cache_resource.clear()


def test_card_text_is_plain_and_only_http_links_survive(service):
    from pages.hotspots import _card

    hostile = "<img src=x onerror=alert(1)>\n\nSOFA\u202e"
    spot = Hotspot((10, 20, 30, 60), "sofa", 0.5, np.zeros(4), None)
    for url, live in [
        ("javascript:alert(1)", ""),
        ("data:text/html,x", ""),
        ("https://shop.example/p", "https://shop.example/p"),
    ]:
        spot.match = Match(1, "p/1", 0.9, "missing.jpg", name=hostile, category="c\nd", url=url, currency="HKD")
        card = _card(spot, (100, 100), service)
        assert card["url"] == live
        assert card["name"] == "<img src=x onerror=alert(1)> SOFA"  # one line, no bidi override; JS sets textContent
        assert card["category"] == "c d" and (card["x"], card["y"]) == (0.2, 0.4)
