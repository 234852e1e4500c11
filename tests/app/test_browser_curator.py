"""Curator tools in headless Chromium against a real `streamlit run app.py`: sign in, draw a box, add a product.

The server runs in curator mode with a password over a private copy of the small index (random detector
weights: a product's box is drawn by hand on the box editor's canvas).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import engine
from engine.curation.curated_boxes import CuratedBoxes
from engine.curation.managed_products import ManagedProducts
from scripts.serverlib import serve
from tests.app.test_browser import DETECT_TIMEOUT, drag, settle
from tests.conftest import CATALOG

pytestmark = pytest.mark.browser
PASSWORD = "a long curator password"
PRODUCT = "sofas/1"  # a 250x250 photo, shown at 480x480 in the box editor
DRAWN = (40, 110, 380, 390)  # canvas pixels


@pytest.fixture(scope="module")
def curator_server(built_index, tmp_path_factory):
    """The app in curator mode over a copy of the small index; yields (url, index folder)."""
    index = Path(shutil.copytree(built_index[0], tmp_path_factory.mktemp("curator") / "index"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOOKALIKE_MODE", "curator")
        patch.setenv("LOOKALIKE_CURATOR_PASSWORD", PASSWORD)
        with serve(index, tmp_path_factory.mktemp("streamlit-curator")) as url:
            yield url, index


@pytest.fixture
def page(browser, curator_server):
    """A fresh browser session whose page errors fail the test."""
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    context.set_default_timeout(60_000)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors


def sign_in(page) -> None:
    """The sidebar form: name and password."""
    from playwright.sync_api import expect

    heading = page.get_by_test_id("stSidebarUserContent").get_by_text("Curator mode", exact=True)  # not the page's hint
    expect(heading).to_be_visible(timeout=2 * DETECT_TIMEOUT)
    page.get_by_label("Your name (recorded with your changes)").fill("Ana")
    page.get_by_label("Curator password").fill(PASSWORD)
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_text("Unlocked as Ana")).to_be_visible()


def test_draw_a_product_box_on_its_catalogue_page_and_save_it(page, curator_server):
    from playwright.sync_api import expect

    url, index = curator_server
    page.goto(f"{url}/catalogue?product={PRODUCT.replace('/', '%2F')}", timeout=2 * DETECT_TIMEOUT)
    sign_in(page)
    page.get_by_text("Curator: this product's box").click()
    canvas = page.locator('[class*="st-key-box-canvas-"] canvas.upper-canvas')
    expect(canvas).to_be_visible()
    assert canvas.evaluate("c => [c.width, c.height]") == [480, 480]
    drag(page, canvas, DRAWN)
    expect(page.locator('[class*="st-key-box-pick-"] input[type=radio]').last).to_be_checked()  # "your box" picked
    settle(page)
    page.get_by_role("button", name="Save this box").click()
    expect(page.get_by_text("indexed by this box now")).to_be_visible()
    saved = CuratedBoxes(index).get(PRODUCT)
    scale = 250 / 480
    assert saved.who == "Ana"
    assert saved.box == pytest.approx(tuple(v * scale for v in DRAWN), abs=1.5)
    meta = engine.CatalogIndex.load(index).meta
    assert sorted(meta.loc[meta["product_id"] == PRODUCT, "kind"]) == ["curated", "image"]


def test_add_a_product_on_the_manage_page(page, curator_server, tmp_path):
    from playwright.sync_api import expect

    url, index = curator_server
    photo = tmp_path / "new-lamp.jpg"
    shutil.copyfile(sorted((CATALOG / "lamps").glob("*.jpg"))[-1], photo)
    page.goto(f"{url}/manage", timeout=2 * DETECT_TIMEOUT)
    sign_in(page)
    expect(page.get_by_role("heading", name="Manage the catalogue")).to_be_visible()
    page.get_by_test_id("stFileUploader").first.locator('input[type="file"]').set_input_files(str(photo))
    expect(page.get_by_test_id("stFileChipName").filter(has_text="new-lamp.jpg")).to_be_visible()
    settle(page)  # the upload has reached the server
    page.get_by_label("Name").fill("Browser lamp")
    page.get_by_label("Category").fill("lamps")
    page.get_by_label("Price").fill("45.50")
    page.get_by_role("button", name="Add product").click()
    expect(page.get_by_text("Added 1 product.")).to_be_visible()
    added = ManagedProducts(index).added()
    assert [(p["product_id"], p["price"]) for p in added] == [("added/browser-lamp", 45.5)]
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Products: 61")
    assert os.path.isfile(index / "managed" / "images" / added[0]["image"].removeprefix("@managed/"))
