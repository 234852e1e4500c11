"""Honest data: products without a name read "Unnamed product", missing fields are left out of the grid, and the
catalogue page lists what shoppers will miss."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.test_pages import APP, TIMEOUT, markdown_text


@pytest.fixture(scope="module")
def gappy_index(built_index, tmp_path_factory):
    """A copy of the small index where a third of the products lost their name, category and price."""
    root = tmp_path_factory.mktemp("gappy") / "index"
    shutil.copytree(built_index[0], root)
    meta_path = root / (root / "CURRENT").read_text().strip() / "meta.parquet"
    meta = pd.read_parquet(meta_path)
    ids = sorted(meta["product_id"].unique())
    blank = meta["product_id"].isin(ids[::3])
    meta.loc[blank, ["name", "category"]] = ""
    meta.loc[blank, "price"] = None
    meta.to_parquet(meta_path, index=False)
    return {"index": root, "blank": ids[::3], "n": len(ids)}


@pytest.fixture
def gappy_env(monkeypatch, gappy_index):
    monkeypatch.setenv("LOOKALIKE_INDEX", str(gappy_index["index"]))
    import streamlit as st

    st.cache_resource.clear()
    yield gappy_index
    st.cache_resource.clear()


def test_gallery_names_unnamed_products_and_lists_data_problems(gappy_env):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/catalogue.py").run()
    assert not at.exception
    gallery = markdown_text(at)
    assert gallery.count("Unnamed product") >= 2 * min(10, len(gappy_env["blank"]))  # title and caption per item
    problems = at.expander[0]
    assert problems.label == "Data problems in this catalogue (3)"  # name, category, price
    text = problems.markdown[0].value
    assert f"{len(gappy_env['blank'])} of {gappy_env['n']} products have no name" in text
    assert "no category" in text and "no price" in text


def test_the_grid_leaves_out_fields_a_product_lacks(gappy_env):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["product"] = gappy_env["blank"][0]
    at.switch_page("pages/catalogue.py").run()
    assert not at.exception
    assert at.title[0].value == "Like Unnamed product"
    grid = markdown_text(at)
    assert "<i></i>" not in grid and "None" not in grid and "nan" not in grid
    assert "<b>Unnamed product</b>" in grid
