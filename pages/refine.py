"""Refine the grid with words: a text box under the grid re-ranks and filters the visual matches."""

from __future__ import annotations

import streamlit as st
from PIL import Image

import engine
from engine.search import has_prices, parse_refinement, refinement_examples, stores_colors
from pages.shared import markdown_text, result_grid

NO_PRICES = "This catalogue has no prices: the price words were left out."


def refined_grid(
    service: engine.Lookalike,
    analysis: engine.Analysis,
    box,
    target: Image.Image,
    caption: str,
    matches: list[engine.Match],
    k: int,
    filters: engine.SearchFilters,
    key: str,
) -> list[engine.Match]:
    """Draw the T/M grid with a "Refine with words" box under it; returns the matches shown.

    With words in the box, the grid shows the products among a wider pool of visual matches that have those
    colours (in their photo, or named in the catalogue), contain the other words in their text columns and
    keep to the price words.
    """
    grid = st.container()
    examples = " · ".join(refinement_examples(service.index.meta))  # words this catalogue has: no prices if it has none
    text = st.text_input("Refine with words", key=f"{key}-refine", placeholder=f"e.g. {examples}", max_chars=200)
    refinement, unpriced = parse_refinement(text), ""
    if refinement.has_prices and not has_prices(service.index.meta):  # else every product fails the price words
        refinement, unpriced = refinement.without_prices(), f" {NO_PRICES}"
    if refinement:
        matches = service.search_box_refined(analysis, box, k, refinement, filters)
        note = (
            ""
            if stores_colors(service.index)
            else " Colours were computed from the photos now: rebuild the index to store them."
        )
        st.caption(f"Refined by {markdown_text(refinement.describe())}.{note}{unpriced}")
    elif unpriced:
        st.caption(unpriced.strip() + " Showing the visual matches.")
    elif text.strip():
        st.caption("No colour, word or price recognised: showing the visual matches.")
    with grid:
        result_grid(target, caption, matches, service)
    return matches
