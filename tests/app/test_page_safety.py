"""Hostile catalogue text, URLs and uploads: shown as text, only http(s) links live, and the pages keep working.

The index is the session's small real index with its metadata rewritten: names, an extra column and URLs carry
blank lines, markdown links and images, raw HTML, `data:` and `javascript:` URLs and a right-to-left override.
"""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.test_pages import APP, TIMEOUT, curator_session, select_box, upload
from tests.engine.test_image_fuzz import corpus

RLO = "\u202e"
INJECTED = "\n\n[Claim your refund](https://evil.example/refund)\n \n![t](http://host/x.png) <img src=x onerror=f()>"
URLS = ["data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "javascript:alert(1)", "https://shop.example/p"]
BLANK_LINE = re.compile(r"\n[ \t]*\n")
UNESCAPED_MARKDOWN = re.compile(r"(?<!\\)[\[\]!()<>]")


@pytest.fixture(scope="module")
def hostile_index(built_index, tmp_path_factory):
    """A copy of the small index whose product text is hostile."""
    root = tmp_path_factory.mktemp("hostile") / "index"
    shutil.copytree(built_index[0], root)
    meta_path = root / (root / "CURRENT").read_text().strip() / "meta.parquet"
    meta = pd.read_parquet(meta_path)
    meta["name"] = RLO + meta["name"].astype(str) + INJECTED
    meta["family"] = "FAM" + INJECTED
    meta["url"] = [URLS[i % len(URLS)] for i in range(len(meta))]
    meta.to_parquet(meta_path, index=False)
    return root


@pytest.fixture
def hostile_env(monkeypatch, hostile_index):
    monkeypatch.setenv("LOOKALIKE_INDEX", str(hostile_index))
    import streamlit as st

    st.cache_resource.clear()
    yield hostile_index
    st.cache_resource.clear()


def catalogue(product: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    if product is not None:
        at.query_params["product"] = product
    at.switch_page("pages/catalogue.py").run()
    assert not at.exception
    return at


def assert_html_is_safe(html: str) -> None:
    """One raw-HTML block (no blank line ends it), no bidi override, live links only http(s) or in-app."""
    assert not BLANK_LINE.search(html) and RLO not in html
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith(("https://", "http://", "catalogue?product=", "?product=")), href
    for src in re.findall(r'src="([^"]*)"', html):
        assert src.startswith("data:image/jpeg;base64,"), src


def assert_plain(text: str) -> None:
    """Markdown shown as text: every markdown/HTML character escaped, one line, no bidi override."""
    assert not UNESCAPED_MARKDOWN.search(text) and "\n" not in text and RLO not in text, text


def test_product_page_shows_hostile_names_as_text_and_only_http_links(hostile_env):
    at = catalogue("sofas/1")
    assert at.title[0].value.startswith("Like FRIHETEN")
    assert_plain(at.title[0].value.removeprefix("Like "))
    grid = next(m.value for m in at.markdown if 'data-tag="M1"' in m.value)
    assert_html_is_safe(grid)
    assert 'href="https://shop.example/p"' in grid  # a real product link stays live
    assert "&lt;img src=x" in grid and "FAM" in grid


def test_gallery_shows_hostile_names_as_text(hostile_env):
    at = catalogue()
    gallery = next(m.value for m in at.markdown if "ll-gallery" in m.value)
    assert_html_is_safe(gallery)
    assert gallery.count('href="?product=') == 30


@pytest.mark.parametrize("product", ["[Claim your refund](https://evil.example/refund)", "![t](http://host/x.png)"])
def test_a_product_id_from_the_url_is_shown_as_text(hostile_env, product):
    at = catalogue(product)
    assert len(at.error) == 1
    assert_plain(at.error[0].value.removeprefix("Unknown product “").split("”. ")[0])


def test_curation_labels_show_hostile_names_as_text(hostile_env, monkeypatch):
    monkeypatch.setenv("LOOKALIKE_CURATOR_PASSWORD", "secret")
    at = select_box(curator_session())
    labels = [r.label for r in at.radio if r.key and r.key.startswith("mark-")]
    assert labels
    for label in labels:
        assert_plain(label.split(" · ", 1)[1])


FUZZ_SAMPLE = ["exif0-png", "exif1-webp", "png-200mp-zeros", "jpeg-progressive-sof20000x20000", "eps", "noise3"]


def test_malformed_uploads_get_a_message_and_the_page_keeps_working(hostile_env):
    files = corpus()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    outcomes = {}
    for name in FUZZ_SAMPLE:
        upload(at, f"{name}.jpg", files[name])
        assert not at.exception, name
        outcomes[name] = at.error[0].value if at.error else "loaded"
    for name in ("exif0-png", "exif1-webp"):  # damaged EXIF: decoded unrotated; refused only for being 24 x 16 px
        assert "only 24 × 16 pixels" in outcomes[name], outcomes[name]
    assert "too large" in outcomes["png-200mp-zeros"] and "too large" in outcomes["jpeg-progressive-sof20000x20000"]
    assert "EPS images are not accepted" in outcomes["eps"] and "not an image" in outcomes["noise3"]
    at.radio(key="source").set_value("Sample photo").run()
    assert not at.exception and not at.error
    assert at.session_state["photo"]["image"].width > 0
