"""The path a shopper takes, in headless Chromium: the committed detector on a real room, a click, a grid.

The server runs over an index built with the project's default detector, embedding and head (tests/conftest.py
`room_index`). The test clicks inside a box the app drew and checks the first match is of the clicked class.
"""

from __future__ import annotations

import pytest

import engine
from catalog.taxonomy import coarse_class
from engine.distinct import distinct_detections
from engine.geometry import smallest_box_at
from tests.app.test_browser import CANVAS_WIDTH, DETECT_TIMEOUT, canvas, choose, click_at, expect_grid, results, upload

pytestmark = pytest.mark.browser
FURNITURE = ("chair", "sofa", "table", "bed")


def clickable_furniture(room_index: dict) -> tuple[tuple[float, float], str, str]:
    """(canvas point, grid label, class) of the largest drawn furniture box that a click at its centre picks."""
    service = engine.load(room_index["index"])
    image = engine.load_image(room_index["room"])
    found = service.analyse(image).detections
    shown, _ = distinct_detections(found)
    boxes = [found[i].box for i in shown]
    scale = min(1.0, CANVAS_WIDTH / image.width)
    by_size = sorted(range(len(shown)), key=lambda n: -(boxes[n][2] - boxes[n][0]) * (boxes[n][3] - boxes[n][1]))
    for n in by_size:  # the largest piece of furniture that a click at its centre selects
        i = shown[n]
        x0, y0, x1, y1 = found[i].box
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        if found[i].class_name in FURNITURE and smallest_box_at(boxes, *centre) == n:
            label = f"{found[i].class_name} {found[i].confidence:.2f}"
            return (centre[0] * scale, centre[1] * scale), label, found[i].class_name
    raise AssertionError(f"the committed detector drew no clickable furniture on {room_index['room'].name}")


def test_click_detected_furniture_on_a_real_room_gives_that_kind_of_product(browser, real_streamlit_url, room_index):
    from playwright.sync_api import expect

    point, label, cls = clickable_furniture(room_index)
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(real_streamlit_url, timeout=2 * DETECT_TIMEOUT)  # a fresh server loads its models first
    expect(page.locator(".st-key-source")).to_be_visible(timeout=2 * DETECT_TIMEOUT)  # models loaded
    choose(page, "source", "Upload")
    upload(page, room_index["room"])
    expect(canvas(page, click=True)).to_be_visible(timeout=DETECT_TIMEOUT)
    caption = page.get_by_text("objects shown").first
    expect(caption).to_be_visible()
    shown = int(caption.inner_text().split()[0])
    assert 1 <= shown <= 10, caption.inner_text()  # a readable picture, not every candidate

    click_at(page, canvas(page, click=True), point)
    expect_grid(page, label)
    first = results(page).locator('[data-tag="M1"] i').first.inner_text()
    assert coarse_class(first) == cls, f"clicked a {cls}, first match is a {first}"
    assert not errors, errors
    page.context.close()
