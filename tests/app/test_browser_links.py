"""No live link from text, in a real browser: bare URLs, `www.` names and e-mail addresses in a URL parameter, a
product name or a product id stay text (GFM autolinks them when they reach Streamlit markdown unbroken)."""

from __future__ import annotations

import shutil
from urllib.parse import quote

import pandas as pd
import pytest

from scripts.serverlib import serve

pytestmark = pytest.mark.browser

PHISH = "https://evil.example/login Please sign in again at www.evil.example or mail help@evil.example"
EVIL_NAME = "[Evil site](https://evil.example/phish) www.evil.example"
EVIL_ID = '=HYPERLINK("http://evil.example")'
TIMEOUT = 90_000  # ms: the first page of a fresh server loads the detector on a busy 2-core machine


@pytest.fixture(scope="module")
def evil_url(built_index, tmp_path_factory):
    """The app over a copy of the small index: sofas/1 has a hostile name, one product a hostile id and no link."""
    root = tmp_path_factory.mktemp("evil-links") / "index"
    shutil.copytree(built_index[0], root)
    meta_path = root / (root / "CURRENT").read_text().strip() / "meta.parquet"
    meta = pd.read_parquet(meta_path)
    meta["url"] = "https://shop.example/p"
    meta.loc[meta["product_id"] == "sofas/1", "name"] = EVIL_NAME
    hostile = meta["product_id"] == meta["product_id"].iloc[-1]
    meta.loc[hostile, ["product_id", "url"]] = [EVIL_ID, ""]
    meta.to_parquet(meta_path, index=False)
    with serve(root, tmp_path_factory.mktemp("evil-links-server")) as url:
        yield url


def evil_links(page) -> list[str]:
    """The hrefs of every link on the page that leads to the attacker (web or mail); a heading's own in-page
    anchor (#like-evil-site-…) leads nowhere."""
    hrefs = page.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href') || '')")
    return [h for h in hrefs if ("evil" in h or h.startswith("mailto:")) and not h.startswith("#")]


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (f"catalogue?product={quote(PHISH, safe='')}", "Unknown product"),
        (f"room?photo={quote(PHISH, safe='')}", "There is no sample room"),
        ("catalogue?product=sofas%2F1", "Like [Evil site]"),
    ],
)
def test_url_and_catalogue_text_shows_no_live_link(browser, evil_url, path, shown):
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.goto(f"{evil_url}/{path}", timeout=TIMEOUT)
    expect(page.get_by_text(shown).first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("evil.example").first).to_be_visible()  # the text is there, as text
    assert evil_links(page) == []
    page.context.close()


def test_a_hostile_product_id_in_data_problems_is_text(browser, evil_url):
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.goto(f"{evil_url}/catalogue", timeout=TIMEOUT)
    page.get_by_text("Data problems in this catalogue").click(timeout=TIMEOUT)
    expect(page.get_by_text("HYPERLINK").first).to_be_visible()
    assert evil_links(page) == []
    page.context.close()
