"""The number on a result tile is the one the grid is ordered by: real detector, head and index, real page HTML.

The class re-rank (engine.search.rerank) adds a bonus to a product of the clicked object's kind; before, the tiles
showed the plain similarity under the re-ranked order, so the numbers went up and down along the grid.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

TIMEOUT = 180
APP = str(Path(__file__).resolve().parents[2] / "app.py")
SCORE = re.compile(r'class="score"[^>]*>(?:match )?(-?\d+\.\d+)<')
SIMILARITY = re.compile(r"looks (-?\d+\.\d+) alike")  # the tile's hover text: the plain similarity


@pytest.fixture
def real_app(monkeypatch, room_index):
    """The app over the index built with the committed detector, embedding and head."""
    monkeypatch.setenv("LOOKALIKE_INDEX", str(room_index["index"]))
    import streamlit as st

    st.cache_resource.clear()
    yield room_index
    st.cache_resource.clear()


def grid_scores(at: AppTest, pattern: re.Pattern = SCORE) -> list[float]:
    """The scores on the tiles of the page's result grid, M1 first (or their similarities)."""
    grids = [m.value for m in at.markdown if 'id="results"' in m.value]
    assert len(grids) == 1
    return [float(score) for score in pattern.findall(grids[0])]


def test_scores_on_every_object_grid_of_a_room_never_increase(real_app):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.selectbox(key="sample").set_value(real_app["room"].name).run()
    state = at.session_state["photo"]
    assert state["n_shown"] >= 3, state["labels"]
    reordered = []  # grids whose plain similarities are out of order: the ones the old tiles got wrong
    for i in range(state["n_shown"]):
        at.session_state["photo"]["selected"] = i
        at.run()
        assert not at.exception
        scores, similarities = grid_scores(at), grid_scores(at, SIMILARITY)
        assert len(scores) == len(similarities) == 10, state["labels"][i]
        assert scores == sorted(scores, reverse=True), (state["labels"][i], scores)
        if similarities != sorted(similarities, reverse=True):
            reordered.append(state["labels"][i])
    assert reordered  # the re-rank did reorder some grid of this room, so the check above had something to catch


def test_scores_on_a_more_like_this_grid_never_increase(real_app):
    product = real_app["products"]["product_id"].iloc[0]
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["product"] = product
    at.run()
    at.switch_page("pages/catalogue.py").run()
    assert not at.exception
    scores = grid_scores(at)
    assert len(scores) == 10 and scores == sorted(scores, reverse=True), scores
