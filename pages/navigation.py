"""The app's navigation: which pages exist for whom, as a top bar, and the route for a page run on its own."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from engine.curation import curator_tools_offered
from pages.curator import curator_sidebar

ABOUT = "about"  # the About page's address: what the app does, the index's model facts, the curator sign-in
PAGE_ICON = Path(__file__).resolve().parent.parent / "assets" / "favicon.png"  # local: no request leaves the host


def app_navigation():
    """The app's pages (app.py runs this), as a top bar: the pages/ files never show as raw module names.

    The shopper pages, then the curator tools in their own section (`curator_pages`; none in a public shop), and
    the curator's sign-in in the sidebar of About and the curator pages (pages/curator.py), not the shoppers'.
    """
    st.set_page_config(page_title="Lookalike", page_icon=str(PAGE_ICON), layout="wide")
    if not curator_tools_offered():
        st.set_option("client.showErrorDetails", "none")  # a public shop shows no traceback, whatever fails
    curator = curator_pages()
    sections = {"": shopper_pages(), "Curator tools": curator}
    navigation = st.navigation({name: pages for name, pages in sections.items() if pages}, position="top")
    curator_sidebar(sign_in=navigation.url_path in {ABOUT, *(page.url_path for page in curator)})
    return navigation


def shopper_pages() -> list:
    """Pages for everyone: shop the look, shop the whole room, the catalogue gallery, a video, About."""
    return [
        st.Page("pages/shop.py", title="Shop the look", icon=":material/search:", url_path="shop", default=True),
        st.Page("pages/room.py", title="Shop the whole room", icon=":material/living:", url_path="room"),
        st.Page("pages/catalogue.py", title="Catalogue", icon=":material/grid_view:", url_path="catalogue"),
        st.Page("pages/video.py", title="Search a video", icon=":material/movie:", url_path="video"),
        st.Page("pages/about.py", title="About", icon=":material/info:", url_path=ABOUT),
    ]


def curator_pages() -> list:
    """Pages for curators: every curator mark and near-duplicate products (read-only), and managing the catalogue
    (writes need the curator sign-in); none in a public shop (LOOKALIKE_MODE=shop, engine.curation.roles)."""
    if not curator_tools_offered():
        return []
    return [
        st.Page("pages/review.py", title="Curation review", icon=":material/fact_check:", url_path="review"),
        st.Page("pages/duplicates.py", title="Near duplicates", icon=":material/content_copy:", url_path="duplicates"),
        st.Page("pages/manage.py", title="Manage catalogue", icon=":material/inventory_2:", url_path="manage"),
    ]


def routed_through_app() -> bool:
    """False when Streamlit ran a page file directly; then route it through `app_navigation` instead.

    Because a `pages/` folder exists, the first request of a fresh server that deep-links to a page
    (e.g. /catalogue?product=…) runs that file in Streamlit's legacy multipage mode, without app.py.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if getattr(PagesManager, "uses_pages_directory", False):
        app_navigation().run()  # runs this very page again, now as an st.navigation page
        return False
    return True
