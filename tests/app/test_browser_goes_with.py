"""In headless Chromium: click an object of a real room, see "Goes well with" under the grid; follow a tile."""

from __future__ import annotations

import pytest

from tests.app.test_browser import DETECT_TIMEOUT, canvas, choose, click_at, expect_grid, results, upload
from tests.app.test_browser_real import clickable_furniture

pytestmark = pytest.mark.browser


def test_clicking_an_object_shows_what_goes_with_it_and_a_tile_opens_its_own(browser, real_streamlit_url, room_index):
    from playwright.sync_api import expect

    point, label, _ = clickable_furniture(room_index)
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(real_streamlit_url, timeout=2 * DETECT_TIMEOUT)
    expect(page.locator(".st-key-source")).to_be_visible(timeout=2 * DETECT_TIMEOUT)
    choose(page, "source", "Upload")
    upload(page, room_index["room"])
    expect(canvas(page, click=True)).to_be_visible(timeout=DETECT_TIMEOUT)
    click_at(page, canvas(page, click=True), point)
    expect_grid(page, label)

    row = page.locator("#goes-with")
    expect(page.get_by_role("heading", name="Goes well with")).to_be_visible()
    expect(page.get_by_text("room photos of this catalogue").first).to_be_visible()
    expect(row.locator(".gw-item")).to_have_count(8)
    kinds = row.locator(".gw-item i").all_inner_texts()
    grid_kind = results(page).locator('[data-tag="M1"] i').first.inner_text()
    assert grid_kind not in kinds, f"the row repeats the clicked kind {grid_kind}: {kinds}"
    for img in row.locator(".gw-item img").all():  # by URL from the media store, not inlined, and each decodes
        assert img.get_attribute("src").startswith(real_streamlit_url), img.get_attribute("src")[:40]
        expect(img).to_have_js_property("complete", True)
        assert img.evaluate("i => i.naturalWidth > 0"), "a thumbnail that does not decode"

    name = row.locator(".gw-item b").first.inner_text()
    row.locator(".gw-item").first.click()  # a tile opens that product's lookalikes, and its own row
    expect(page.get_by_role("heading", name=f"Like {name}")).to_be_visible(timeout=DETECT_TIMEOUT)
    expect(page.locator("#goes-with .gw-item").first).to_be_visible()
    assert not errors, errors
    page.context.close()
