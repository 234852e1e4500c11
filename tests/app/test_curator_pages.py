"""AppTest: the curation review (marks made through FeedbackStore, filters, CSV export) and the near-duplicate
finder, over a copy of the session's small real index. Both pages only read."""

from __future__ import annotations

import io
import shutil

import pandas as pd
import pytest
from PIL import Image
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from engine.curation.feedback import FILENAME, NOT_SIMILAR, SIMILAR, FeedbackStore
from engine.search.duplicates import DEFAULT_K, near_duplicates
from tests.app.test_pages import APP, TIMEOUT

PASSWORD = "review password"
HOSTILE_SOURCE = '=HYPERLINK("https://evil.example","refund")'


@pytest.fixture
def index_copy(monkeypatch, built_index, tmp_path):
    """A private copy of the small index (marks written here stay here), with the app pointed at it."""
    root = tmp_path / "index"
    shutil.copytree(built_index[0], root, ignore=shutil.ignore_patterns(FILENAME))
    monkeypatch.setenv("LOOKALIKE_INDEX", str(root))
    monkeypatch.setenv("LOOKALIKE_CURATOR_PASSWORD", PASSWORD)  # the pages are for signed-in curators
    import streamlit as st

    st.cache_resource.clear()
    yield root
    st.cache_resource.clear()


@pytest.fixture
def downloads(monkeypatch) -> list[tuple[bytes, str, str | None]]:
    """What the app hands to Streamlit's media storage (download buttons): (data, mimetype, file name)."""
    saved = []
    real = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        saved.append((path_or_data, mimetype, filename))
        return real(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return saved


def open_page(page: str) -> AppTest:
    """A curator's session (signed in through the About page's sidebar form) on a page."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/about.py").run()
    at.text_input(key="curator-password").input(PASSWORD)
    at.button(key="curator-unlock-button").click().run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def make_marks(index_dir) -> tuple[list[str], dict]:
    """Three query crops with marks on real products of the index; returns (product ids, query ids)."""
    products = sorted(pd.read_parquet(next(index_dir.glob("v*/meta.parquet")))["product_id"].unique())[:4]
    store = FeedbackStore(index_dir)
    red = store.save_marks(Image.new("RGB", (60, 40), (200, 0, 0)), [(products[0], SIMILAR, 1, 0.91),
                           (products[1], NOT_SIMILAR, 2, 0.85)], products[0], source="shop",
                           who="Ana Lindqvist")  # fmt: skip
    green = store.save_marks(Image.new("RGB", (50, 50), (0, 200, 0)), [(products[2], SIMILAR, 1, 0.77)], None,
                             source=HOSTILE_SOURCE, who=HOSTILE_SOURCE)  # fmt: skip
    blue = store.save_marks(Image.new("RGB", (30, 60), (0, 0, 200)), [(products[1], None, 3, 0.5)], products[1])
    return products, {"red": red, "green": green, "blue": blue}


def test_review_without_marks_says_so_and_creates_nothing(index_copy):
    at = open_page("pages/review.py")
    assert at.title[0].value == "Curation review"
    assert "No curator marks yet" in at.info[0].value
    assert not (index_copy / FILENAME).exists()


def test_review_lists_every_mark_with_its_crop_and_filters(index_copy):
    products, queries = make_marks(index_copy)
    before = (index_copy / FILENAME).read_bytes()
    at = open_page("pages/review.py")
    table = at.dataframe[0].value
    assert len(table) == 4
    assert list(table.columns[:4]) == ["Query crop", "Product", "Name", "Product id"]
    assert table["Query crop"].str.startswith("data:image/jpeg;base64,").all()
    assert table["Product"].str.startswith("data:image/jpeg;base64,").all()
    assert list(table["Query"]) == [queries["blue"], queries["green"], queries["red"], queries["red"]]  # newest first
    red = table[table["Query"] == queries["red"]].set_index("Product id")
    assert red.loc[products[0], "Verdict"] == "similar" and red.loc[products[0], "Chosen"]
    assert red.loc[products[1], "Verdict"] == "not similar" and red.loc[products[1], "Score"] == pytest.approx(0.85)

    at.multiselect(key="review-verdicts").set_value(["similar"]).run()
    assert sorted(at.dataframe[0].value["Product id"]) == sorted([products[0], products[2]])
    at.multiselect(key="review-verdicts").set_value(["chosen pair"]).run()
    assert sorted(at.dataframe[0].value["Product id"]) == sorted([products[0], products[1]])
    at.multiselect(key="review-verdicts").set_value([]).run()
    at.multiselect(key="review-products").set_value([products[1]]).run()
    assert set(at.dataframe[0].value["Query"]) == {queries["red"], queries["blue"]}
    at.multiselect(key="review-products").set_value([]).run()
    at.text_input(key="review-text").input("hyperlink").run()
    assert list(at.dataframe[0].value["Product id"]) == [products[2]]
    at.text_input(key="review-text").input("lindqvist").run()  # the curator's name is searchable and shown as text
    assert list(at.dataframe[0].value["Curator"]) == ["Ana Lindqvist", "Ana Lindqvist"]
    assert not at.exception
    assert (index_copy / FILENAME).read_bytes() == before  # the page only reads


def test_review_csv_has_the_filtered_marks_and_neutralises_formulas(index_copy, downloads):
    products, queries = make_marks(index_copy)
    at = open_page("pages/review.py")
    at.multiselect(key="review-verdicts").set_value(["similar"]).run()
    data, mimetype, name = downloads[-1]
    assert (mimetype, name) == ("text/csv", "curator-marks.csv")
    exported = pd.read_csv(io.BytesIO(data), keep_default_na=False)
    assert list(exported.columns[:6]) == ["updated", "who", "query_id", "product_id", "name", "category"]
    assert sorted(exported["product_id"]) == sorted([products[0], products[2]])
    assert set(exported["verdict"]) == {SIMILAR}
    hostile = exported.set_index("product_id").loc[products[2], "source"]
    assert hostile == "'" + HOSTILE_SOURCE  # a spreadsheet shows it as text, never runs it
    assert exported.set_index("product_id").loc[products[2], "who"] == "'" + HOSTILE_SOURCE  # a curator's name too
    assert exported.set_index("product_id").loc[products[0], "who"] == "Ana Lindqvist"
    assert exported["score"].dtype.kind == "f" and exported["updated"].str.endswith("Z").all()


def test_near_duplicates_follow_the_threshold(index_copy):
    import engine.index.backends

    index = engine.index.backends.load_index(index_copy)
    at = open_page("pages/duplicates.py")
    assert at.title[0].value == "Near duplicates"
    pairs = {threshold: len(near_duplicates(index, threshold, DEFAULT_K)) for threshold in (0.9, 0.8)}
    assert 0 < pairs[0.9] < pairs[0.8], pairs  # a lower threshold finds more pairs: both draw, and differently
    for threshold in (0.9, 0.8):
        at.slider(key="dup-threshold").set_value(threshold).run()
        expected = near_duplicates(index, threshold, DEFAULT_K)
        html = "\n".join(m.value for m in at.markdown if 'id="pairs"' in m.value)
        assert html.count('class="ll-pair"') == min(len(expected), 100)
        best = expected.iloc[0]
        assert f"{best.score:.3f}" in html
        assert f"catalogue?product={best.product_a.replace('/', '%2F')}" in html
        assert f"{len(expected):,} pair" in at.caption[1].value
    assert near_duplicates(index, 1.0, DEFAULT_K).empty  # no two products are identical
    at.slider(key="dup-threshold").set_value(1.0).run()
    assert not at.exception and "No pair of products is this similar" in at.info[0].value


def test_an_unnamed_product_reads_unnamed_product_in_near_duplicates(index_copy):
    """A product without a name showed as its id (or file name: "img256"); it reads "Unnamed product" everywhere."""
    import engine.index.backends

    index = engine.index.backends.load_index(index_copy)
    unnamed = near_duplicates(index, 0.8, DEFAULT_K).iloc[0].product_a
    index.replace_meta(index.meta.assign(name=index.meta["name"].where(index.meta["product_id"] != unnamed, "")))
    index.save(index_copy)
    at = open_page("pages/duplicates.py")
    at.slider(key="dup-threshold").set_value(0.8).run()
    html = "\n".join(m.value for m in at.markdown if 'id="pairs"' in m.value)
    tile = html.split(f"catalogue?product={unnamed.replace('/', '%2F')}", 1)[1].split("</a>", 1)[0]
    assert 'title="Unnamed product"' in tile and "<b>Unnamed product</b>" in tile, tile


def test_near_duplicates_beyond_the_first_page_are_reached_page_by_page(index_copy):
    """The page drew only the best 100 pairs; a curator could never see the rest (an unnamed product's, often)."""
    import engine.index.backends

    index = engine.index.backends.load_index(index_copy)
    expected = near_duplicates(index, 0.8, DEFAULT_K)
    assert len(expected) > 50, len(expected)  # more pairs than two pages of 25 at 0.8
    at = open_page("pages/duplicates.py")
    at.slider(key="dup-threshold").set_value(0.8).run()
    at.selectbox(key="dup-per-page").set_value(25).run()
    at.number_input(key="dup-page").set_value(3).run()
    html = "\n".join(m.value for m in at.markdown if 'id="pairs"' in m.value)
    assert html.count('class="ll-pair"') == min(len(expected) - 50, 25)
    assert f"catalogue?product={expected.iloc[50].product_a.replace('/', '%2F')}" in html
    captions = "\n".join(c.value for c in at.caption)
    assert f"Pairs 51–{50 + min(len(expected) - 50, 25)} of {len(expected):,}" in captions
    at.slider(key="dup-threshold").set_value(0.95).run()  # fewer pairs: the page number follows, no error
    assert not at.exception and at.markdown
