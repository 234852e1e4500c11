"""First start: with no index yet, the app builds the demo catalogue in the background and shows its progress;
searching starts when it is done. Both demo catalogues are offered, each with its own index."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.index.store import current_version
from tests.conftest import CATALOG

pytestmark = pytest.mark.slow
APP = str(Path(__file__).resolve().parents[2] / "app.py")
BUILD_TIMEOUT = 400  # s, 8 product photos with the committed detector on a busy 2-core machine


@pytest.fixture
def fresh_install(monkeypatch, tmp_path, small_products):
    """No index built yet; the default demo is 8 real products, and no other catalogue is present."""
    demo = tmp_path / "demo"
    rows = small_products.groupby("category").head(2).head(8)
    for image in rows["image"]:
        (demo / image).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CATALOG / image, demo / image)
    rows.to_csv(demo / "products.csv", index=False)
    monkeypatch.delenv("LOOKALIKE_INDEX", raising=False)
    monkeypatch.setenv("LOOKALIKE_INDEXES", str(tmp_path / "indexes"))
    monkeypatch.setenv("LOOKALIKE_DEMO_DATA", str(demo))
    monkeypatch.setenv("LOOKALIKE_DATA", str(tmp_path / "no-shared-data"))
    import streamlit as st

    st.cache_resource.clear()
    yield tmp_path / "indexes" / "ikea-rooms"
    st.cache_resource.clear()


def test_a_missing_demo_index_is_built_with_live_progress_then_the_shop_opens(fresh_install):
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value == "Preparing the ikea-rooms catalogue"
    assert "searching starts with the first few hundred photos" in at.caption[0].value
    deadline = time.monotonic() + BUILD_TIMEOUT
    while at.title[0].value != "Shop the look":
        assert time.monotonic() < deadline, (fresh_install / "build.log").read_text()
        time.sleep(2)
        at.run()
        assert not at.exception and not at.error, [e.value for e in at.error]
    assert (fresh_install / "CURRENT").is_file()
    assert "Products:** 8" in "\n".join(m.value for m in at.sidebar.markdown)


@pytest.fixture
def on_the_second_catalogue(monkeypatch, built_index, tmp_path):
    """Both demo catalogues built (the same small index, for speed); the app opened on ?catalogue=ikea-catalog."""
    indexes = tmp_path / "indexes"
    indexes.mkdir()
    for name in ("ikea-rooms", "ikea-catalog"):
        (indexes / name).symlink_to(built_index[0], target_is_directory=True)
    monkeypatch.delenv("LOOKALIKE_INDEX", raising=False)
    monkeypatch.setenv("LOOKALIKE_INDEXES", str(indexes))
    import streamlit as st

    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["catalogue"] = "ikea-catalog"
    yield at.run()
    st.cache_resource.clear()


def test_both_demo_catalogues_are_offered_and_the_choice_is_in_the_link(on_the_second_catalogue):
    at = on_the_second_catalogue
    assert not at.exception
    choice = at.sidebar.selectbox(key="catalogue-choice")
    assert choice.options == ["ikea-rooms", "ikea-catalog"] and choice.value == "ikea-catalog"
    assert "Products:** 60" in "\n".join(m.value for m in at.sidebar.markdown)
    choice.set_value("ikea-rooms").run()
    assert not at.exception
    assert at.query_params["catalogue"] == "ikea-rooms"  # the address bar names the catalogue: a link shares it
    assert at.sidebar.selectbox(key="catalogue-choice").value == "ikea-rooms"


def test_product_links_keep_the_chosen_catalogue(on_the_second_catalogue):
    """A link replaces the whole query string: gallery, "More like this" and "Goes well with" opened the default."""
    import re
    from urllib.parse import unquote

    at = on_the_second_catalogue
    at.switch_page("pages/catalogue.py").run()
    html = "\n".join(m.value for m in at.markdown)
    gallery = re.findall(r'class="ll-item" href="([^"]*)"', html)
    assert gallery and all(h.endswith("&amp;catalogue=ikea-catalog") for h in gallery), gallery[:3]
    at.query_params["product"] = unquote(gallery[0].split("product=", 1)[1].split("&amp;", 1)[0])
    at.switch_page("pages/catalogue.py").run()
    assert not at.exception
    html = "\n".join(m.value for m in at.markdown)
    links = re.findall(r'href="((?:catalogue)?\?[^"]*)"', html)  # grid "More like this", goes-with tiles, back link
    assert links and all("catalogue=ikea-catalog" in h for h in links), links


def test_a_partly_built_catalogue_says_how_much_of_it_is_searchable(monkeypatch, built_index, tmp_path):
    index = Path(shutil.copytree(built_index[0], tmp_path / "index"))
    manifest = current_version(index) / "manifest.json"
    record = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(record | {"pending_images": 40}))  # as a growing first build publishes it
    monkeypatch.setenv("LOOKALIKE_INDEX", str(index))
    import streamlit as st

    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    shown = record["n_images"]
    assert f"{shown} of {shown + 40} catalogue photos are searchable so far" in "\n".join(i.value for i in at.info)
    manifest.write_text(json.dumps(record | {"pending_images": 0}))
    at.run()
    assert not any("searchable so far" in i.value for i in at.info)  # the whole catalogue: no notice
    st.cache_resource.clear()


def test_a_first_build_stopped_with_its_server_goes_on_when_the_page_opens_again(fresh_install, built_index):
    """The catalogue a shopper chose was half built when the server stopped: the next page start resumes it."""
    from catalog import background

    index = Path(shutil.copytree(built_index[0], fresh_install))
    manifest = current_version(index) / "manifest.json"
    manifest.write_text(json.dumps(json.loads(manifest.read_text()) | {"pending_images": 40}))
    stopped = {"state": background.STOPPED, "pid": 0, "done": 8, "total": 48, "message": "stopped"}
    background.progress_path(index).write_text(json.dumps(stopped | {"started": time.time(), "updated": time.time()}))
    (index / "build.log").write_text("12:00:00 stopped: the server stopped (an earlier start)\n")
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception and at.title[0].value == "Shop the look"
    assert background.status(index).state in (background.RUNNING, background.DONE)  # started again at once
    deadline = time.monotonic() + BUILD_TIMEOUT
    while background.status(index).state == background.RUNNING:
        assert time.monotonic() < deadline, (index / "build.log").read_text()
        time.sleep(2)
    assert background.status(index).state == background.DONE, (index / "build.log").read_text()
    assert not json.loads((current_version(index) / "manifest.json").read_text()).get("pending_images")
    log = (index / "build.log").read_text()
    assert log.startswith("12:00:00 stopped") and "build started" in log, log  # a start appends, keeping history
