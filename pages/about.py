"""About: what Lookalike does, what a match score means, this catalogue's index; curators sign in here."""

from __future__ import annotations

import streamlit as st

from engine.curation import curator_tools_offered
from pages.loading import service_or_stop
from pages.navigation import routed_through_app
from pages.shared import index_facts

WHAT_IT_DOES = (
    "Lookalike finds catalogue products that look like something in a photo. Pick a room photo on "
    "**Shop the look**, click a piece of furniture or draw a box around anything, and the catalogue's most similar "
    "products appear, best first. **Shop the whole room** finds a product for every object at once, **Catalogue** "
    "browses the products (and finds more like each one), and **Search a video** does the same for a short clip."
)
SCORE = (
    "**The match score** on each result is what the results are ordered by, best first. It is how alike the two "
    "photos look to the model (1 would be the same picture) plus a small bonus when the product is the "
    "same kind of thing as the object you clicked (up to 0.2; up to 1 on a product's *More like this* page), and "
    "when it has the colours or words you typed under **Refine with words**. Hover over a score to see the split."
)


def about_page() -> None:
    """The text, then the chosen catalogue's index facts (model names for presenters and curators)."""
    st.title("About Lookalike")
    st.markdown(WHAT_IT_DOES)
    st.markdown(SCORE)
    if curator_tools_offered():
        st.caption("Curators: sign in in the sidebar; the curator tools are in the top bar.")
    service = service_or_stop()
    st.subheader("This catalogue's index")
    st.markdown(index_facts(service))
    st.caption("How it works, and how well: docs/HOW-IT-WORKS.md and docs/BENCHMARKS.md in the project.")


if routed_through_app():
    about_page()
