"""Streamlit AppTest: each page renders against a small real index, and the grid follows a selection."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from engine.images import MAX_PIXELS
from tests.conftest import ROOMS, jpeg_bytes, truncated_jpeg

TIMEOUT = 120
APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def app_env(monkeypatch, built_index):
    """Point the app at the session's small index, with the engine cache cleared."""
    monkeypatch.setenv("LOOKALIKE_INDEX", str(built_index[0]))
    import streamlit as st

    st.cache_resource.clear()
    yield built_index[0]
    st.cache_resource.clear()


def markdown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_shop_page_renders_a_sample_and_the_sidebar(app_env):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value == "Shop the look"
    assert at.radio(key="source").value == "Sample photo"
    assert "Products:** 60" in "\n".join(m.value for m in at.sidebar.markdown)
    assert at.session_state["photo"]["analysis"].letterbox.source_size[0] > 0


def test_the_about_page_holds_the_model_facts_and_the_shop_sidebar_does_not(app_env):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert "Products:** 60" in sidebar
    assert not [word for word in ("Weights", "Embedding", "sha", "Built") if word in sidebar], sidebar
    at.switch_page("pages/about.py").run()
    assert not at.exception and at.title[0].value == "About Lookalike"
    body = markdown_text(at)
    assert "**Weights:**" in body and "**Embedding:**" in body and "The match score" in body


def test_a_selection_shows_the_target_and_matches(app_env):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    state = at.session_state["photo"]
    width, height = state["image"].size
    state["boxes"].append((width * 0.2, height * 0.3, width * 0.6, height * 0.9))
    state["labels"].append("your box 1")
    state["selected"] = len(state["boxes"]) - 1
    at.run()
    assert 'data-tag="M10"' in markdown_text(at)  # default k
    at.slider(key="shop-k").set_value(4).run()
    assert not at.exception
    grid = markdown_text(at)
    assert 'data-tag="T"' in grid and 'data-tag="M4"' in grid and 'data-tag="M5"' not in grid
    assert "Products like your box 1" in at.subheader[0].value


def test_category_filter_limits_the_grid(app_env):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    state = at.session_state["photo"]
    state["boxes"].append((0, 0, 200, 200))
    state["labels"].append("your box 1")
    state["selected"] = len(state["boxes"]) - 1
    at.run()
    at.multiselect(key="shop-categories").set_value(["lamps"]).run()
    grid = "\n".join(m.value for m in at.markdown if 'class="ll-grid"' in m.value)  # not the goes-with row
    assert grid.count("<i>lamps</i>") == 10 and "<i>sofas</i>" not in grid


def test_catalogue_gallery_links_every_product(app_env):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/catalogue.py").run()
    assert not at.exception
    assert at.title[0].value == "Catalogue"
    gallery = markdown_text(at)
    assert gallery.count('href="?product=') == 30  # first page of 60 products
    at.text_input(key="gallery-text").input("FRIHETEN").run()
    assert 0 < markdown_text(at).count('href="?product=') < 30


def test_catalogue_product_link_searches_lookalikes(app_env):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.query_params["product"] = "sofas/1"
    at.switch_page("pages/catalogue.py").run()
    assert not at.exception
    assert at.title[0].value.startswith("Like FRIHETEN")
    grid = markdown_text(at)
    assert 'data-tag="T"' in grid and 'data-tag="M10"' in grid
    assert "sofas%2F1" not in grid  # the product itself is excluded from its matches


def test_missing_index_explains_how_to_build(monkeypatch, tmp_path):
    monkeypatch.setenv("LOOKALIKE_INDEX", str(tmp_path / "no-index"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value == "No catalogue index yet"
    assert "build_catalog.py" in at.code[0].value


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.radio(key="source").set_value("Upload").run()
    at.file_uploader(key="upload").upload(name, data, "image/jpeg").run()
    return at


def test_bad_uploads_get_a_clear_message_and_the_page_keeps_working(app_env):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    upload(at, "broken.jpg", truncated_jpeg())
    assert not at.exception
    shown = at.error[0].value.replace("\\", "")  # the message is escaped markdown: the file name is text
    assert "damaged or truncated" in shown and "broken.jpg" in shown
    upload(at, "notes.jpg", b"just some text, not a photo")
    assert "not an image" in at.error[0].value
    at.radio(key="source").set_value("Sample photo").run()
    assert not at.exception and not at.error
    assert at.session_state["photo"]["image"].width > 0


def test_huge_and_rotated_uploads_are_handled(app_env):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    huge = Image.new("RGB", (9000, 6000), (120, 110, 90))  # 54 MP
    upload(at, "huge.jpg", jpeg_bytes(huge, quality=40))
    assert not at.exception and not at.error
    image = at.session_state["photo"]["image"]
    assert image.width * image.height <= MAX_PIXELS
    assert any("Your 54 MP photo was reduced to" in c.value for c in at.caption)  # the shopper is told
    exif = Image.Exif()
    exif[0x0112] = 6  # shot in portrait, stored in landscape
    upload(at, "portrait.jpg", jpeg_bytes(Image.new("RGB", (600, 400), (9, 9, 9)), exif=exif.tobytes()))
    assert at.session_state["photo"]["image"].size == (400, 600)


def test_a_tiny_photo_is_refused_with_what_to_do_next(app_env):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    upload(at, "dot.png", png_bytes(Image.new("RGB", (1, 1), (200, 10, 10))))
    assert not at.exception
    shown = at.error[0].value.replace("\\", "")
    assert "only 1 × 1 pixels" in shown and "at least 32 pixels" in shown
    assert not at.pills  # no canvas and no objects for a 1-pixel photo


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def select_box(at: AppTest) -> AppTest:
    state = at.session_state["photo"]
    width, height = state["image"].size
    state["boxes"].append((width * 0.25, height * 0.25, width * 0.75, height * 0.75))
    state["labels"].append("your box 1")
    state["selected"] = len(state["boxes"]) - 1
    return at.run()


def curator_session() -> AppTest:
    """A session of an unlocked curator (what the sidebar's sign-in sets; pages/curator.py)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["curator-unlocked"] = "tester"
    return at.run()


def test_curator_marks_are_saved_with_the_crop_and_shown_again_after_a_restart(app_env, monkeypatch):
    from engine.curation.feedback import NOT_SIMILAR, SIMILAR, FeedbackStore

    monkeypatch.setenv("LOOKALIKE_CURATOR_PASSWORD", "secret")
    at = select_box(curator_session())
    at.slider(key="shop-k").set_value(3).run()
    marks = [r for r in at.radio if r.key and r.key.startswith("mark-")]
    assert len(marks) == 3 and marks[0].value == "–"
    marks[0].set_value("similar")
    marks[1].set_value("not similar")
    chosen = next(s for s in at.selectbox if s.key and s.key.startswith("chosen-"))
    chosen.set_value("M1")
    next(b for b in at.button if b.key and b.key.startswith("save-")).click().run()
    assert not at.exception
    assert "Saved 2 marks and the chosen pair M1" in at.success[0].value

    store = FeedbackStore(app_env)
    latest = max(m.query_id for m in store.marks())
    saved = {m.rank: m for m in store.marks(latest)}
    assert saved[1].verdict == SIMILAR and saved[1].chosen and saved[2].verdict == NOT_SIMILAR
    assert saved[3].verdict is None
    assert {m.who for m in saved.values()} == {"tester"}  # the signed-in curator's name, on every mark
    assert store.crop(saved[1].query_id).size[0] > 0

    again = select_box(curator_session())  # a new session: marks come back
    again.slider(key="shop-k").set_value(3).run()
    values = [r.value for r in again.radio if r.key and r.key.startswith("mark-")]
    assert values == ["similar", "not similar", "–"]
    assert next(s for s in again.selectbox if s.key and s.key.startswith("chosen-")).value == "M1"


@pytest.fixture
def real_app_env(monkeypatch, room_index):
    """The app over the real-path index: the committed detector, embedding and head."""
    monkeypatch.setenv("LOOKALIKE_INDEX", str(room_index["index"]))
    import streamlit as st

    st.cache_resource.clear()
    yield room_index
    st.cache_resource.clear()


def first_match_category(at: AppTest) -> str:
    """The category shown under M1 in the grid."""
    grid = markdown_text(at)
    tile = grid[grid.index('data-tag="M1"') :]
    return tile[tile.index("<i>") + 3 : tile.index("</i>")]


def area(box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def test_real_room_shows_few_distinct_boxes_and_a_click_gives_that_class(real_app_env):
    from catalog.taxonomy import coarse_class

    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    upload(at, "room.jpg", real_app_env["room"].read_bytes())
    assert not at.exception
    state = at.session_state["photo"]
    found = len(state["analysis"].detections)
    assert 1 <= state["n_shown"] <= 10 and state["n_shown"] <= found
    furniture = [i for i in range(state["n_shown"]) if state["labels"][i].split()[0] in ("chair", "sofa", "table")]
    assert furniture, state["labels"]
    furniture.sort(key=lambda i: -area(state["boxes"][i]))  # click the largest piece, as scripts/search.py would
    assert found > state["n_shown"], (found, state["n_shown"])  # overlapping candidates were merged for display
    at.toggle(key="show-all").set_value(True).run()
    assert not at.exception
    objects = at.pills[0]  # the list of objects beside the photo: a real widget, as a shopper picks
    assert len(objects.options) == found  # "show all" is on
    objects.set_value(furniture[0]).run()
    assert not at.exception
    assert state["selected"] == furniture[0]
    cls = state["labels"][furniture[0]].split()[0]
    assert at.subheader[0].value == f"Products like {state['labels'][furniture[0]]}"
    assert coarse_class(first_match_category(at)) == cls


def test_a_catalogue_photo_upload_shows_its_own_product_first(real_app_env):
    products = real_app_env["products"]
    row = products.iloc[len(products) // 2]
    photo = Image.open(ROOMS / row["image"]).convert("RGB").resize((333, 333))  # a shopper's copy, re-saved
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    upload(at, "shot.jpg", jpeg_bytes(photo, quality=80))
    assert not at.exception
    assert at.session_state["photo"]["labels"][0] == "whole photo"
    assert at.subheader[0].value == "Products like whole photo"  # no click needed
    grid = markdown_text(at)
    tile = grid[grid.index('data-tag="M1"') :]
    assert f"product={row['product_id']}" in tile[: tile.index('data-tag="M2"')]


def test_the_sidebar_says_when_the_catalogue_is_being_updated(monkeypatch, built_index, tmp_path):
    """A build running beside a live index (e.g. adding gallery views) shows its progress on every page."""
    import shutil

    import streamlit as st

    from catalog import background

    index = tmp_path / "index"
    shutil.copytree(built_index[0], index)
    monkeypatch.setenv("LOOKALIKE_INDEX", str(index))
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not [i for i in at.sidebar.info if "updated in the background" in i.value]
    background.progress_writer(index)(412, 2292)  # this process: a live build
    at.run()
    assert any("(412 of 2,292 photos in this pass)" in i.value for i in at.sidebar.info)
    st.cache_resource.clear()
