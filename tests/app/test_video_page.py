"""Streamlit AppTest: the video page's timeline, a moment opened in the photo flow, and refining the grid."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

TIMEOUT = 300
APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def real_app(monkeypatch, room_index):
    """The app over the real-path index (committed detector, embedding and head), on the video page."""
    monkeypatch.setenv("LOOKALIKE_INDEX", str(room_index["index"]))
    import streamlit as st

    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/video.py").run()
    yield at
    st.cache_resource.clear()


def upload_video(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="video-upload").upload(name, data, "video/mp4").run()
    return at


def test_a_video_gives_a_timeline_and_a_moment_opens_in_the_photo_flow(real_app, room_video):
    at = real_app
    assert not at.exception and at.title[0].value == "Search a video"
    upload_video(at, "rooms.mp4", room_video.read_bytes())
    assert not at.exception
    result = at.session_state["video"]["result"]
    assert len(result.tracks) >= 4
    assert at.subheader[0].value == f"{len(result.tracks)} objects found in 0:06 of video"
    captions = [image.proto.imgs[0].caption for image in at.get("image")]
    assert any(c and c.startswith("0:00 · ") for c in captions) and any(c and c.startswith("0:03") for c in captions)
    last = len(result.tracks) - 1
    at.button(key=f"video-open-{last}").click().run()  # the last moment: the second room
    assert not at.exception
    assert at.title[0].value == "Shop the look"
    photo = at.session_state["photo"]
    assert photo["image"].size == (960, 540) and photo["analysis"].detections  # boxes to click
    shown = " ".join(c.value for c in at.caption)
    assert f"Searching the video frame at 0:0{int(result.tracks[last].time_s)}" in shown
    photo["selected"] = 0  # what a click inside the first box does
    at.switch_page("pages/shop.py").run()  # AppTest reruns the page it was told, not the one the app switched to
    assert 'data-tag="M1"' in "\n".join(m.value for m in at.markdown)
    at.button(key="handed-frame-clear").click()
    at.switch_page("pages/shop.py").run()
    assert not at.exception and at.radio(key="source").value == "Sample photo"


def test_refine_words_under_the_grid_filter_the_matches(real_app, room_index):
    at = real_app
    at.switch_page("pages/shop.py").run()
    state = at.session_state["photo"]
    state["selected"] = 0
    at.run()
    plain = "\n".join(m.value for m in at.markdown)
    at.text_input(key="shop-refine").input("black").run()
    assert not at.exception
    refined = "\n".join(m.value for m in at.markdown)
    assert refined != plain and 'data-tag="T"' in refined
    assert any("Refined by colour: black" in c.value.replace("\\", "") for c in at.caption)
    at.text_input(key="shop-refine").input("unobtainium").run()
    assert "No catalogue product passes the current filters." in [i.value for i in at.info]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.mp4", b"just some text, not a video" * 10, "not a video that can be decoded"),
        ("empty.mov", b"", "empty"),
    ],
)
def test_a_bad_video_gets_a_clear_message(real_app, name, data, message):
    at = upload_video(real_app, name, data)
    assert not at.exception
    shown = at.error[0].value.replace("\\", "")
    assert message in shown and name in shown
