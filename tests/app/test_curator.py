"""Curator tools in Streamlit AppTest over a private copy of the small index: roles, box editor, add, remove."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import engine
from engine.curation.curated_boxes import CuratedBoxes
from engine.curation.managed_products import ManagedProducts
from tests.catalog.test_uploads import zipped
from tests.conftest import CATALOG

TIMEOUT = 180
APP = str(Path(__file__).resolve().parents[2] / "app.py")
PASSWORD = "correct horse battery staple"
PRODUCT = "sofas/1"


@pytest.fixture
def curator_env(monkeypatch, tmp_path, built_index):
    """The app in curator mode with a password, over a private copy of the small index."""
    index = Path(shutil.copytree(built_index[0], tmp_path / "index"))
    monkeypatch.setenv("LOOKALIKE_INDEX", str(index))
    monkeypatch.setenv("LOOKALIKE_MODE", "curator")
    monkeypatch.setenv("LOOKALIKE_CURATOR_PASSWORD", PASSWORD)
    import streamlit as st

    st.cache_resource.clear()
    yield index
    st.cache_resource.clear()


def unlocked(page: str | None = None, product: str | None = None) -> AppTest:
    """A session signed in through the sidebar form, on a page."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.text_input(key="curator-name").input("Ana")
    at.text_input(key="curator-password").input(PASSWORD)
    at.button(key="curator-unlock-button").click().run()
    assert "Unlocked as Ana" in "\n".join(c.value for c in at.sidebar.caption)
    if product:
        at.query_params["product"] = product
    if page:
        at.switch_page(page).run()
    assert not at.exception
    return at


def test_a_wrong_password_stays_locked_and_the_tools_refuse(curator_env):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.text_input(key="curator-password").input("guess")
    at.button(key="curator-unlock-button").click().run()
    assert "Wrong password" in at.error[0].value
    at.switch_page("pages/manage.py").run()
    assert "Unlock curator mode" in at.info[0].value
    assert not [b for b in at.button if b.key in ("add-one-button", "add-many-button", "remove-button")]


def test_shop_mode_shows_no_curator_tools_and_writes_nothing(curator_env, monkeypatch):
    monkeypatch.setenv("LOOKALIKE_MODE", "shop")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["curator-unlocked"] = "forged"  # even a session that claims to be unlocked
    at.run()
    assert not at.exception
    assert "Curator mode" not in [h.value for h in at.sidebar.subheader]
    assert not [t for t in at.text_input if t.key == "curator-password"]
    state = at.session_state["photo"]
    state["boxes"].append((0, 0, 200, 200))
    state["labels"].append("your box 1")
    state["selected"] = len(state["boxes"]) - 1
    at.run()
    assert 'data-tag="M1"' in "\n".join(m.value for m in at.markdown)
    assert not [r for r in at.radio if r.key and r.key.startswith("mark-")]  # no curation panel
    at.query_params["product"] = PRODUCT
    at.switch_page("pages/catalogue.py").run()
    assert at.title[0].value.startswith("Like ")
    assert not [e for e in at.expander if "box" in e.label]
    with pytest.raises(ValueError, match="Known pages: .*shop.py") as refused:
        at.switch_page("pages/manage.py")  # not in the navigation at all
    known = str(refused.value).split("Known pages:")[1]
    assert not any(name in known for name in ("manage.py", "review.py", "duplicates.py"))
    assert (
        not (curator_env / "managed_products.sqlite").exists() and not (curator_env / "curated_boxes.sqlite").exists()
    )


def test_no_password_configured_keeps_the_tools_locked(curator_env, monkeypatch):
    monkeypatch.delenv("LOOKALIKE_CURATOR_PASSWORD")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["curator-unlocked"] = "forged"
    at.run()
    assert "no curator password is set" in "\n".join(c.value for c in at.sidebar.caption)
    at.switch_page("pages/manage.py").run()
    assert "Unlock curator mode" in at.info[0].value


def box_pick(at: AppTest):
    """The box editor's radio (its key changes with each drawing)."""
    return next(r for r in at.radio if r.key and r.key.startswith(f"box-pick-{PRODUCT}-"))


def test_edit_a_product_box_with_a_drawn_box(curator_env):
    at = unlocked("pages/catalogue.py", PRODUCT)
    assert box_pick(at).options == ["whole photo"]  # random weights: nothing detected
    at.session_state[f"box-drawn-{PRODUCT}"] = (20.0, 60.0, 200.0, 200.0)  # what dragging on the canvas stores
    at.session_state[f"box-drawings-{PRODUCT}"] = 1
    at.run()
    assert box_pick(at).value == "your box"  # a new drawing is picked at once
    at.button(key=f"box-save-{PRODUCT}").click().run()
    assert not at.exception
    assert "indexed by this box now" in at.success[0].value
    saved = CuratedBoxes(curator_env).get(PRODUCT)
    assert saved.box == (20.0, 60.0, 200.0, 200.0) and saved.who == "Ana"
    meta = engine.CatalogIndex.load(curator_env).meta
    assert sorted(meta.loc[meta["product_id"] == PRODUCT, "kind"]) == ["curated", "image"]
    assert box_pick(at).options[0] == "saved box"
    at.button(key=f"box-clear-{PRODUCT}").click().run()
    assert "detected objects again" in at.success[0].value
    assert CuratedBoxes(curator_env).get(PRODUCT) is None


def test_add_one_product_then_find_it_in_the_catalogue(curator_env):
    at = unlocked("pages/manage.py")
    photo = (CATALOG / "beds" / next(p.name for p in (CATALOG / "beds").glob("*.jpg"))).read_bytes()
    at.file_uploader(key="add-photo").upload("bed.jpg", photo, "image/jpeg")
    at.text_input(key="add-name").input("Curated <b>bed</b>")
    at.text_input(key="add-category").input("beds")
    at.text_input(key="add-price").input("999")
    at.text_input(key="add-url").input("javascript:alert(1)")
    at.button(key="add-one-button").click().run()
    assert not at.exception
    assert at.success[0].value.replace("\\", "") == "Added 1 product."
    added = ManagedProducts(curator_env).added()
    assert [p["product_id"] for p in added] == ["added/curated-b-bed-b"] and added[0]["price"] == 999.0
    meta = engine.CatalogIndex.load(curator_env).meta
    assert (meta["product_id"] == "added/curated-b-bed-b").sum() >= 1
    assert "Products:** 61" in "\n".join(m.value for m in at.sidebar.markdown)
    at.query_params["product"] = "added/curated-b-bed-b"
    at.switch_page("pages/catalogue.py").run()
    assert not at.exception and "<b>" not in at.title[0].value  # catalogue text stays text


def test_add_many_lists_bad_rows_and_remove_one(curator_env):
    at = unlocked("pages/manage.py")
    photos = sorted((CATALOG / "lamps").glob("*.jpg"))[-2:]
    csv = "product_id,image,name,category,price\n" + "".join(
        f"new/{p.stem},{p.name},Lamp {p.stem},lamps,5\n" for p in photos
    )
    csv += "bad/text,notes.jpg,Not a photo,lamps,5\nbad/slip,../../x.jpg,Slip,lamps,5\n"
    archive = zipped({**{p.name: p.read_bytes() for p in photos}, "notes.jpg": b"hello"})
    at.file_uploader(key="add-csv").upload("products.csv", csv.encode(), "text/csv")
    at.file_uploader(key="add-zip").upload("photos.zip", archive, "application/zip")
    at.button(key="add-many-button").click().run()
    assert not at.exception
    assert at.success[0].value.replace("\\", "") == "Added 2 products."
    skipped = "\n".join(m.value for m in at.markdown).replace("\\", "")
    assert "notes.jpg" in skipped and "../../x.jpg" in skipped
    at.multiselect(key="remove-products").set_value(["new/" + photos[0].stem, PRODUCT]).run()
    at.button(key="remove-button").click().run()
    assert at.success[0].value.replace("\\", "") == "Removed 2 products."
    left = set(engine.CatalogIndex.load(curator_env).meta["product_id"])
    assert "new/" + photos[1].stem in left and "new/" + photos[0].stem not in left and PRODUCT not in left
