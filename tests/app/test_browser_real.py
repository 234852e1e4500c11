"""The path a shopper takes, in headless Chromium: the committed detector on a real room, a click, a grid.

The server runs over an index built with the project's default detector, embedding and head (tests/conftest.py
`room_index`). The test clicks inside a box the app drew and checks the first match is of the clicked class.
"""

from __future__ import annotations

import pytest

import engine
from catalog.taxonomy import coarse_class
from engine.detection.distinct import distinct_detections
from engine.geometry import boxes_at, smallest_box_at
from tests.app.test_browser import (
    CANVAS_WIDTH,
    DETECT_TIMEOUT,
    LIVE,
    canvas,
    choose,
    click_at,
    expect_grid,
    results,
    subheader,
    upload,
)

pytestmark = pytest.mark.browser
FURNITURE = ("chair", "sofa", "table", "bed")


RAW_MODULES = ("app", "shared", "shop", "catalogue", "curation", "loading")  # pages/ files a bare server would list


def drawn_boxes(room_index: dict) -> tuple[list, list[str], float]:
    """The boxes the shop page draws on the room (distinct detections), their labels, and the canvas scale."""
    service = engine.load(room_index["index"])
    image = engine.load_image(room_index["room"])
    found = service.analyse(image).detections
    shown, _ = distinct_detections(found)
    labels = [f"{found[i].class_name} {found[i].confidence:.2f}" for i in shown]
    return [found[i].box for i in shown], labels, min(1.0, CANVAS_WIDTH / image.width)


def covered_box(room_index: dict) -> tuple[tuple[float, float], str, str]:
    """(canvas point, label picked by a first click there, label of the larger box a second click picks)."""
    boxes, labels, scale = drawn_boxes(room_index)
    for a in boxes:
        for b in boxes:
            x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
            under = boxes_at(boxes, (x0 + x1) / 2, (y0 + y1) / 2)
            if a is not b and x1 - x0 > 4 and y1 - y0 > 4 and len(under) >= 2:
                point = ((x0 + x1) / 2 * scale, (y0 + y1) / 2 * scale)
                return point, labels[under[0]], labels[under[1]]
    raise AssertionError(f"no overlapping boxes drawn on {room_index['room'].name}: {labels}")


def test_a_fresh_server_shows_a_spinner_or_the_page_never_raw_module_names(browser, real_streamlit_url):
    """The first visit to a fresh server: something on screen while models load, and only the app's navigation."""
    import time

    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    outside = []  # nothing may call out to the internet (a :material: favicon did: fonts.gstatic.com)
    local = (real_streamlit_url, "data:")
    page.on("request", lambda r: None if r.url.removeprefix("blob:").startswith(local) else outside.append(r.url))
    page.goto(real_streamlit_url)
    seen, deadline = [], time.monotonic() + 2 * DETECT_TIMEOUT / 1000
    while not page.get_by_role("heading", name="Shop the look").count():
        assert time.monotonic() < deadline, f"the shop page never showed; seen: {seen}"
        links = [page.get_by_role("link", name=name, exact=True).count() for name in RAW_MODULES]
        assert not any(links), f"raw page files listed: {dict(zip(RAW_MODULES, links))}"
        text = page.locator("body").inner_text()
        if "Starting Lookalike" in text or "Loading the detector" in text:
            seen.append("spinner")
        time.sleep(0.2)
    nav = page.get_by_role("navigation").first
    for name in ("Shop the look", "Catalogue"):
        assert page.get_by_role("link", name=name).count() or nav.get_by_text(name).count(), name
    assert not any(page.get_by_role("link", name=name, exact=True).count() for name in RAW_MODULES)
    assert page.get_by_test_id("stSidebarNav").count() == 0  # the sidebar holds the catalogue facts, not pages
    assert not outside, outside
    page.context.close()


def room_uploaded(browser, url: str, room):
    """A fresh session's shop page with the room photo uploaded and its clickable canvas shown."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.set_default_timeout(60_000)
    page.goto(url, timeout=2 * DETECT_TIMEOUT)
    expect(page.locator(".st-key-source")).to_be_visible(timeout=2 * DETECT_TIMEOUT)
    choose(page, "source", "Upload")
    upload(page, room)
    expect(canvas(page, click=True)).to_be_visible(timeout=DETECT_TIMEOUT)
    return page


def test_a_box_covered_by_a_smaller_one_is_reached_by_clicking_again(browser, real_streamlit_url, room_index):
    from playwright.sync_api import expect

    point, first, second = covered_box(room_index)
    page = room_uploaded(browser, real_streamlit_url, room_index["room"])
    click_at(page, canvas(page, click=True), point)
    expect_grid(page, first)
    canvas(page, click=True).evaluate("photo => { photo.dataset.kept = 'yes'; }")
    click_at(page, canvas(page, click=True), point)  # the same spot again: the larger box under it
    expect_grid(page, second)
    # A click cost only its grid: the photo element stayed (only its image changed), and the photo and the grid's
    # images come by URL from the server's media store, not inlined into every run's message.
    assert canvas(page, click=True).get_attribute("data-kept") == "yes"
    assert canvas(page, click=True).get_attribute("src").startswith(f"{real_streamlit_url}/media/")
    sources = results(page).locator("img").evaluate_all("images => images.map(i => i.getAttribute('src'))")
    assert len(sources) == 11 and all(src.startswith(f"{real_streamlit_url}/media/") for src in sources), sources
    page.wait_for_function(f"() => [...document.querySelectorAll('{LIVE} #results img')].every(i => i.naturalWidth)")
    page.get_by_role("radio", name=first, exact=True).first.click()  # or pick it in the list of objects
    expect(subheader(page)).to_have_text(f"Products like {first}")
    page.context.close()


def test_a_one_pixel_upload_gets_a_message(browser, real_streamlit_url, tmp_path):
    from PIL import Image
    from playwright.sync_api import expect

    dot = tmp_path / "dot.png"
    Image.new("RGB", (1, 1), (250, 0, 0)).save(dot)
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.set_default_timeout(60_000)
    page.goto(real_streamlit_url, timeout=2 * DETECT_TIMEOUT)
    expect(page.locator(".st-key-source")).to_be_visible(timeout=2 * DETECT_TIMEOUT)
    choose(page, "source", "Upload")
    upload(page, dot)
    expect(page.get_by_text("only 1 × 1 pixels")).to_be_visible(timeout=DETECT_TIMEOUT)
    expect(page.locator("canvas")).to_have_count(0)
    page.context.close()


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


def test_nothing_covers_the_object_chips_and_the_sidebar_is_for_shoppers(browser, real_streamlit_url, room_index):
    """The canvas's toolbar rises above the photo on hover: it once covered the last chips (and took their clicks).
    The shopper's sidebar shows the catalogue's size, not the model's internals or a curator sign-in."""
    from playwright.sync_api import expect

    page = room_uploaded(browser, real_streamlit_url, room_index["room"])
    photo = canvas(page, click=True)
    chips = page.locator('[data-testid="stButtonGroup"] button')
    expect(chips.first).to_be_visible()
    assert chips.count() >= 3
    chips.first.scroll_into_view_if_needed()
    box = photo.bounding_box()
    page.mouse.move(box["x"] + box["width"] - 20, box["y"] + 20)  # hovering the photo's top right shows the toolbar
    page.wait_for_timeout(600)  # its fade-in and rise take 0.25 s
    on_top = "b => { const r = b.getBoundingClientRect(); return b.contains(document.elementFromPoint("
    on_top += "r.x + r.width / 2, r.y + r.height / 2)) }"
    covered = [chips.nth(i).inner_text() for i in range(chips.count()) if not chips.nth(i).evaluate(on_top)]
    assert not covered, f"covered chips: {covered}"

    sidebar = page.get_by_test_id("stSidebar").inner_text()
    assert "Products" in sidebar
    assert not [word for word in ("Embedding", "Weights", "effnet", "Curator", "password") if word in sidebar], sidebar
    page.context.close()
