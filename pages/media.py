"""Images sent by URL (Streamlit's media store) rather than inlined as base64 in every script run's messages.

A URL costs a few dozen bytes per run; the browser fetches each image once and keeps it. Each image is held under a
`slot` of the session: showing another image in that slot lets the store drop the old one.

The images are stored as Streamlit's "downloadable" kind, which its cleanup keeps through one more pass than plain
media: a full run cleared the session's images and then stopped early (a newer event arrived) would otherwise drop
an image the browser was still fetching, and the page would show it broken. (The only other difference is a
Content-Disposition header, which an <img> ignores.)
"""

from __future__ import annotations

import base64
import html
from urllib.parse import urlsplit

import streamlit as st

MIME = "image/jpeg"


def served_url(jpeg: bytes, slot: str) -> str | None:
    """An absolute http(s) URL of the JPEG in the media store, or None outside a served app (AppTest, bare mode)."""
    from streamlit import runtime

    page = st.context.url  # this shopper's address of the page: on a page other than the first it ends in its path
    if not page or not page.startswith(("http://", "https://")) or not runtime.exists():
        return None
    manager = runtime.get_instance().media_file_mgr
    path = manager.add(jpeg, MIME, f"lookalike:{slot}", file_name=f"{slot}.jpg", is_for_static_download=True)
    return app_root(page) + path.lstrip("/")


def app_root(page_url: str) -> str:
    """The app's root URL ("http://host:port/" plus the configured base path) from any of its pages' URLs."""
    parts = urlsplit(page_url)
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{parts.scheme}://{parts.netloc}/" + (f"{base}/" if base else "")


def image_src(jpeg: bytes, slot: str) -> str:
    """An <img> src for the JPEG, HTML-escaped: its media URL, else (no served app) an inline data URI."""
    url = served_url(jpeg, slot)
    return html.escape(url) if url else f"data:{MIME};base64," + base64.b64encode(jpeg).decode()
