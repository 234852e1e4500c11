"""Browser-test fixtures: a real `streamlit run app.py` on a free port, and headless Debian Chromium."""

from __future__ import annotations

import os

import pytest

from scripts.serverlib import CHROMIUM_ARGS, chromium_path, serve


@pytest.fixture(scope="module")
def streamlit_url(built_index, tmp_path_factory):
    """The app over the session's small index (random detector weights)."""
    with serve(built_index[0], tmp_path_factory.mktemp("streamlit")) as url:
        yield url


@pytest.fixture(scope="module")
def real_streamlit_url(room_index, tmp_path_factory):
    """The app over the real-path index: the committed detector, embedding and head."""
    with serve(room_index["index"], tmp_path_factory.mktemp("streamlit-real")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright (skipped when either is missing, but never in CI)."""
    missing = pytest.fail if os.environ.get("CI") else pytest.skip
    try:
        from playwright import sync_api
    except ImportError:
        missing("playwright is not installed (./test.sh installs it)")
    executable = chromium_path()
    if executable is None:
        missing("no Chromium at /usr/bin/chromium (apt-get install chromium, or set LOOKALIKE_CHROMIUM)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def browser_page(browser, streamlit_url):
    """A fresh browser context (its own Streamlit session) on the app's main page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(streamlit_url)
    yield page
    context.close()
