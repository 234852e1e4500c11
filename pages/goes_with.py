"""The "Goes well with" row under a grid: products of other kinds that go with the clicked one (engine.search)."""

from __future__ import annotations

import streamlit as st

import engine
from engine.search import GOES_WITH_SHOWN, Suggestion, goes_with_for
from pages.media import image_src
from pages.shared import display_name, html_text, linked_tile, markdown_text, product_href, product_thumbnail

ROW_SIZE = 8
ANCHORS = 3  # a clicked object goes by its best lookalikes, weighted by their score


def goes_with_row(service: engine.Lookalike, anchors: list[str] | dict[str, float]) -> None:
    """The row for product ids (a catalogue product) or {product id: weight} (a clicked object's lookalikes)."""
    if not GOES_WITH_SHOWN or not anchors:
        return
    model = goes_with_for(service.index)
    suggestions = model.suggest(anchors, ROW_SIZE)
    st.subheader("Goes well with")
    st.caption(markdown_text(model.source))
    if not suggestions:
        st.info("Nothing of another kind to suggest in this catalogue.")
        return
    st.markdown(_row_html(service, suggestions), unsafe_allow_html=True)


def lookalike_anchors(matches: list[engine.Match]) -> dict[str, float]:
    """A clicked object as anchors: its best few lookalikes, weighted by their (positive) similarity."""
    return {m.product_id: max(m.score, 1e-3) for m in matches[:ANCHORS]}


def _row_html(service: engine.Lookalike, suggestions: list[Suggestion]) -> str:
    """Linked tiles: thumbnail, name, kind and why; each opens the product's own lookalikes and row."""
    cells = []
    for i, s in enumerate(suggestions):  # by URL: fetched once by the browser, not resent in every run's message
        src = image_src(product_thumbnail(service, s.image, s.content_hash, 200), f"goes-with-{i}")
        name, kind, why = html_text(display_name(s.name)), html_text(s.category), html_text(s.why)
        cells.append(
            linked_tile(
                "gw-item", product_href(s.product_id), src, name, f"<b>{name}</b><i>{kind}</i><span>{why}</span>"
            )
        )
    return ROW_CSS + f'<div class="gw-row" id="goes-with">{"".join(cells)}</div>'


ROW_CSS = """<style>
.gw-row {display: grid; grid-template-columns: repeat(auto-fill, minmax(120px, 1fr)); gap: 10px;}
.gw-item {display: flex; flex-direction: column; text-decoration: none; color: inherit; font-size: .75rem;
          line-height: 1.25;}
.gw-item img {width: 100%; aspect-ratio: 1; object-fit: contain; background: #fff; border-radius: 6px;
              border: 1px solid rgba(128,128,128,.3); margin-bottom: 4px;}
.gw-item span {opacity: .7;}
.gw-item:hover img {outline: 3px solid #ff4b4b;}
</style>"""
