"""Shop the whole room in headless Chromium against a real `streamlit run app.py`: a sample room's link, the dots
of the committed detector's objects, a hovered dot's product card, and the card's click opening the full grid.

The hotspot view is a custom component (an iframe of plain HTML/JS): the test drives it like a shopper would.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

import engine
from engine.search.room import room_hotspots
from tests.app.test_browser import DETECT_TIMEOUT

pytestmark = pytest.mark.browser


def test_sample_room_link_shows_hotspots_a_card_and_its_grid(browser, real_streamlit_url, room_index):
    from playwright.sync_api import expect

    service = engine.load(room_index["index"])
    expected = room_hotspots(service, service.analyse(engine.load_image(room_index["room"])))
    assert expected, "the committed detector found nothing to show on the test room"
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.set_default_timeout(60_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{real_streamlit_url}/room?photo={quote(room_index['room'].name)}", timeout=2 * DETECT_TIMEOUT)

    view = page.frame_locator('iframe[title*="room_hotspots"]')
    dots = view.locator("button.dot")
    expect(dots).to_have_count(len(expected), timeout=2 * DETECT_TIMEOUT)  # one dot per distinct object
    expect(page.get_by_text(f"{len(expected)} objects")).to_be_visible()
    assert room_index["room"].name in page.url

    card = view.locator("#card")
    expect(card).to_be_hidden()
    dots.first.hover()  # hovering opens the card of the best match
    expect(card).to_be_visible()
    best = expected[0].match
    expect(card.locator(".card-name")).to_have_text(best.name or best.product_id)
    expect(card.locator(".card-label")).to_have_text(expected[0].label)
    expect(card.locator(".card-thumb")).to_have_attribute("src", re.compile("^data:image/jpeg;base64,"))

    dots.nth(len(expected) - 1).click()  # a click pins another dot's card
    expect(card.locator(".card-label")).to_have_text(expected[-1].label)
    page.mouse.move(5, 5)
    page.wait_for_timeout(600)
    expect(card).to_be_visible()  # pinned: still open after the pointer left

    card.click()  # the card opens the full grid of that object's lookalikes
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=f"Products like {expected[-1].label}")).to_be_visible()
    expect(dialog.locator('#results [data-tag="T"]')).to_be_visible()
    expect(dialog.locator('#results [data-tag="M10"]')).to_be_visible()
    first = dialog.locator('#results [data-tag="M1"] b').first.inner_text()
    assert first == (expected[-1].match.name or expected[-1].match.product_id)
    assert not errors, errors
    context.close()


def test_a_bad_room_link_is_shown_as_text(browser, real_streamlit_url):
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{real_streamlit_url}/room?photo={quote('<b>x</b>/../rooms.csv')}", timeout=2 * DETECT_TIMEOUT)
    expect(page.get_by_text("There is no sample room “<b>x</b>/../rooms.csv”")).to_be_visible(timeout=DETECT_TIMEOUT)
    expect(page.locator('iframe[title*="room_hotspots"]')).to_have_count(0)
    page.context.close()
