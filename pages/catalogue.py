"""Catalogue gallery: browse products; clicking any image searches for products like it (?product=ID)."""

from __future__ import annotations

import math

import streamlit as st

import engine
from catalog.products import data_gaps, describe_gaps
from pages.box_editor import box_editor
from pages.goes_with import goes_with_row
from pages.loading import service_or_stop
from pages.media import image_src
from pages.navigation import routed_through_app
from pages.shared import (
    catalogue_href,
    display_name,
    html_text,
    linked_tile,
    markdown_text,
    product_href,
    product_thumbnail,
    result_grid,
    search_controls,
    sidebar_facts,
)

PAGE_SIZE = 30
NOT_HERE = "It is not in this catalogue (another catalogue, or removed): pick a product in the gallery."


def catalogue_page() -> None:
    """The gallery, or the lookalikes of the product named in the URL."""
    service = service_or_stop()
    sidebar_facts(service)
    product_id = st.query_params.get("product")
    if product_id:
        lookalikes(service, product_id)
    else:
        gallery(service)


def lookalikes(service: engine.Lookalike, product_id: str) -> None:
    """T = the catalogue product, M = the most similar other products."""
    products = service.index.meta.drop_duplicates("product_id").set_index("product_id")
    if product_id not in products.index:
        st.error(f"Unknown product “{markdown_text(product_id)}”. {NOT_HERE}")
        st.markdown(f'<a href="{catalogue_href()}" target="_self">← Back to the catalogue</a>', unsafe_allow_html=True)
        return
    product = products.loc[product_id]
    st.title(f"Like {markdown_text(display_name(product['name']))}")
    st.markdown(f'<a href="{catalogue_href()}" target="_self">← Back to the catalogue</a>', unsafe_allow_html=True)
    k, filters = search_controls(service, key="similar")
    matches = service.search_product(product_id, k=k, filters=filters)
    target = engine.load_image(service.image_path(product["image"]))
    result_grid(target, display_name(product["name"]), matches, service)
    goes_with_row(service, [product_id])
    box_editor(service, product_id, product["image"])


def gallery(service: engine.Lookalike) -> None:
    """A filterable, paged grid of every product; each image links to its lookalikes."""
    st.title("Catalogue")
    products = service.index.meta.drop_duplicates("product_id")
    data_problems(products)
    left, right = st.columns([2, 3])
    text = left.text_input("Search names", key="gallery-text", placeholder="e.g. sofa, KIVIK")
    categories = sorted(c for c in products["category"].dropna().unique() if c)
    chosen = right.multiselect("Categories", categories, key="gallery-categories", placeholder="All categories")
    if chosen:
        products = products[products["category"].isin(chosen)]
    if text:
        haystack = products["name"].fillna("") + " " + products["product_id"] + " " + products["category"].fillna("")
        products = products[haystack.str.contains(text, case=False, regex=False)]
    pages = max(1, math.ceil(len(products) / PAGE_SIZE))
    page = st.number_input(f"Page (of {pages})", 1, pages, 1, key="gallery-page")
    st.caption(f"{len(products):,} products · click any image to find products like it")
    shown = products.iloc[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    st.markdown(_gallery_html(shown, service), unsafe_allow_html=True)


def data_problems(products) -> None:
    """For curators: what shoppers will miss in this catalogue (no names, no prices, …), listed once."""
    lines = describe_gaps(data_gaps(products), len(products), examples=10)
    if lines:
        with st.expander(f"Data problems in this catalogue ({len(lines)})"):
            st.markdown("\n".join(f"- {markdown_text(line)}" for line in lines))


def _gallery_html(products, service: engine.Lookalike) -> str:
    """Linked thumbnails: clicking one opens ?product=ID on this page."""
    cells = []
    for i, row in enumerate(products.itertuples(index=False)):  # by URL, as the shop grid
        src = image_src(product_thumbnail(service, row.image, getattr(row, "content_hash", ""), 200), f"gallery-{i}")
        name = html_text(display_name(row.name))
        cells.append(linked_tile("ll-item", product_href(row.product_id, page=""), src, name, f"<span>{name}</span>"))
    return GALLERY_CSS + f'<div class="ll-gallery">{"".join(cells)}</div>'


GALLERY_CSS = """<style>
.ll-gallery {display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: 10px;}
.ll-item {display: block; text-decoration: none; color: inherit; font-size: .75rem; line-height: 1.2;}
.ll-item img {width: 100%; aspect-ratio: 1; object-fit: contain; background: #fff; border-radius: 6px;
              border: 1px solid rgba(128,128,128,.3);}
.ll-item:hover img {outline: 3px solid #ff4b4b;}
</style>"""


if routed_through_app():
    catalogue_page()
