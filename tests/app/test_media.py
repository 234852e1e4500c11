"""Images by URL: the media store's address is the app's root, whichever page the shopper is on."""

from __future__ import annotations

import pytest

from pages.media import app_root

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "page",
    [
        "http://127.0.0.1:8501",
        "http://127.0.0.1:8501/",
        "http://127.0.0.1:8501/catalogue",
        "http://127.0.0.1:8501/x?y=1",
    ],
)
def test_every_page_shares_the_apps_root(page):
    assert app_root(page) == "http://127.0.0.1:8501/"  # not .../catalogue/media/…, which serves the page's HTML


def test_a_configured_base_path_is_kept(monkeypatch):
    import streamlit as st

    monkeypatch.setattr(st, "get_option", lambda name: "/shop/" if name == "server.baseUrlPath" else None)
    assert app_root("https://example.com/shop/catalogue") == "https://example.com/shop/"
