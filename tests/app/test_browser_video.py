"""The video page in headless Chromium against a real `streamlit run app.py`: upload a video, read its timeline,
open a moment in "Shop the look" and click an object in the frame, and a corrupt upload that gets a message.

The server runs over the real-path index (tests/conftest.py `room_index`: the committed detector, embedding and
head) and is given the test video of two real rooms (`room_video`). What the page must show is computed with the
engine itself on the same video, at the page's default rate (1 frame per second).
"""

from __future__ import annotations

import random
import re

import pytest

import engine
from engine.detection.distinct import distinct_detections
from engine.geometry import smallest_box_at
from engine.video import clock, search_video
from tests.app.test_browser import CANVAS_WIDTH, DETECT_TIMEOUT, LIVE, canvas, click_at, expect_grid

pytestmark = pytest.mark.browser
SEARCH_TIMEOUT = 3 * DETECT_TIMEOUT  # ms; the first upload pays for model load, then detects every sampled frame


@pytest.fixture(scope="module")
def expected(room_index, room_video):
    """(service, VideoResult): what the engine finds in the test video at the page's default settings."""
    service = engine.load(room_index["index"])
    return service, search_video(service, room_video, fps=1.0)  # the page's settings: the defaults


def video_page(browser, url: str):
    """A fresh browser context (its own Streamlit session) on the video page; (page, page errors seen)."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    context.set_default_timeout(60_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{url}/video", timeout=2 * DETECT_TIMEOUT)  # a fresh server loads its models first
    expect(page.get_by_role("heading", name="Search a video")).to_be_visible(timeout=2 * DETECT_TIMEOUT)
    expect(page.locator(".st-key-video-upload")).to_be_visible()
    return page, errors


def upload_video(page, path) -> None:
    """Give the "Room video" file uploader a file."""
    page.locator('.st-key-video-upload input[type="file"]').set_input_files(str(path))


def timeline_heading(page):
    return page.locator(LIVE).get_by_role("heading", name=re.compile(r"objects? found in"))


def no_traceback(page) -> None:
    """No Streamlit exception box and no Python traceback anywhere on the page."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert "Traceback" not in page.locator("body").inner_text()


def clickable_object(service, frame_jpeg: bytes) -> tuple[tuple[float, float], str]:
    """(canvas point, label) of the largest box the shop page draws on this frame that a click at its centre picks."""
    image = engine.load_image(frame_jpeg)
    found = service.analyse(image).detections
    shown, _ = distinct_detections(found)
    boxes = [found[i].box for i in shown]
    scale = min(1.0, CANVAS_WIDTH / image.width)
    by_size = sorted(range(len(boxes)), key=lambda n: -(boxes[n][2] - boxes[n][0]) * (boxes[n][3] - boxes[n][1]))
    for n in by_size:
        x0, y0, x1, y1 = boxes[n]
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        if smallest_box_at(boxes, *centre) == n:
            d = found[shown[n]]
            return (centre[0] * scale, centre[1] * scale), f"{d.class_name} {d.confidence:.2f}"
    raise AssertionError(f"the committed detector drew no clickable box on the video frame: {len(boxes)} boxes")


def test_uploaded_video_shows_a_timeline_of_its_objects(browser, real_streamlit_url, room_video, expected):
    """Uploading the two-room video lists every object the engine tracks, with its moment's time and kind."""
    from playwright.sync_api import expect

    _, result = expected
    found = len(result.tracks)
    assert found >= 4, f"the engine tracks only {found} objects in the test video"
    page, errors = video_page(browser, real_streamlit_url)
    expect(page.get_by_text("Upload a video of a room")).to_be_visible()
    upload_video(page, room_video)
    expect(timeline_heading(page)).to_have_text(f"{found} objects found in 0:06 of video", timeout=SEARCH_TIMEOUT)
    expect(page.get_by_text(f"{result.sampled} frames looked at.")).to_be_visible()

    captions = page.locator(LIVE).get_by_test_id("stImageCaption")
    expect(captions).to_have_count(found)
    shown = captions.all_inner_texts()
    assert shown == [f"{clock(t.time_s)} · {t.label}" for t in result.tracks]
    assert shown[0].startswith("0:00 · ") and any(c.startswith("0:03") for c in shown), shown
    buttons = page.locator(LIVE).get_by_role("button", name=re.compile(r"^Open the frame at \d:\d\d$"))
    expect(buttons).to_have_count(found)
    best = result.tracks[0].matches[0]
    expect(page.get_by_text(best.name or best.product_id).first).to_be_visible()  # the first moment's best product
    no_traceback(page)
    assert not errors, errors
    page.context.close()


def test_opening_a_moment_searches_its_frame_in_shop_the_look(browser, real_streamlit_url, room_video, expected):
    """ "Open the frame" of the last moment shows that frame's boxes in "Shop the look"; a click in one gives a grid."""
    from playwright.sync_api import expect

    service, result = expected
    last = len(result.tracks) - 1  # the last moment: the second room
    when = clock(result.tracks[last].time_s)
    point, label = clickable_object(service, result.frames[result.tracks[last].frame])
    page, errors = video_page(browser, real_streamlit_url)
    upload_video(page, room_video)
    expect(timeline_heading(page)).to_be_visible(timeout=SEARCH_TIMEOUT)

    button = page.locator(f".st-key-video-open-{last}").get_by_role("button")
    expect(button).to_have_text(f"Open the frame at {when}")
    button.click()
    expect(page.get_by_role("heading", name="Shop the look")).to_be_visible(timeout=DETECT_TIMEOUT)
    expect(page.get_by_text(f"Searching the video frame at {when}.")).to_be_visible()
    expect(canvas(page, click=True)).to_be_visible(timeout=DETECT_TIMEOUT)  # boxes found: "Click an object" mode
    expect(page.locator(LIVE).get_by_text(re.compile(r"^[1-9]\d* objects? shown"))).to_be_visible()
    expect(page.locator(".st-key-source")).to_have_count(0)  # the frame replaces the photo choice

    click_at(page, canvas(page, click=True), point)
    expect_grid(page, label)
    no_traceback(page)
    assert not errors, errors
    page.context.close()


def test_a_corrupt_video_gets_a_message_and_the_page_recovers(browser, real_streamlit_url, room_video, tmp_path):
    """Random bytes named clip.mp4 get a clear error, no traceback; the real video uploaded next gets its timeline."""
    from playwright.sync_api import expect

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(random.Random(0).randbytes(200_000))
    page, errors = video_page(browser, real_streamlit_url)
    upload_video(page, clip)
    error = page.get_by_test_id("stAlert").filter(has_text="not a video that can be decoded")
    expect(error).to_be_visible(timeout=DETECT_TIMEOUT)
    expect(error).to_contain_text("Cannot use “clip.mp4”")
    expect(timeline_heading(page)).to_have_count(0)
    no_traceback(page)

    upload_video(page, room_video)  # replaces the bad file: the page still searches
    expect(timeline_heading(page)).to_contain_text("objects found in 0:06 of video", timeout=SEARCH_TIMEOUT)
    expect(error).to_have_count(0)
    no_traceback(page)
    assert not errors, errors
    page.context.close()
