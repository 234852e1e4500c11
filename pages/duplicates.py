"""Near duplicates (read-only, signed-in curators only): pairs of products that look alike above a threshold."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

import engine
from engine.index import current_version
from engine.search import NEAR_DUPLICATE_K, near_duplicates
from pages.curator import require_curator
from pages.loading import service_or_stop
from pages.navigation import routed_through_app
from pages.shared import (
    data_uri,
    display_name,
    html_text,
    linked_tile,
    product_href,
    product_thumbnail,
    sidebar_facts,
)

LOWEST = 0.80  # the slider's lowest threshold
PAGE_SIZES = (25, 50, 100)  # pairs drawn a page, best first
THUMB = 200


def duplicates_page() -> None:
    """A threshold slider, then the best pairs at or above it, each as two product tiles and their similarity."""
    require_curator("Near duplicates")
    service = service_or_stop()
    sidebar_facts(service, details=True)
    st.title("Near duplicates")
    st.caption(
        "Pairs of products whose photos look alike, for catalogue clean-up: the same product listed twice, or "
        f"variants that shoppers cannot tell apart. Each product is compared with its {NEAR_DUPLICATE_K} most similar."
    )
    threshold = st.slider("Similarity at least", LOWEST, 1.00, 0.95, 0.005, format="%.3f", key="dup-threshold")
    started = time.perf_counter()
    every = candidate_pairs(str(service.index_dir), current_version(service.index_dir).name, service.index)
    pairs = every[every["score"] >= threshold]
    elapsed = (time.perf_counter() - started) * 1000
    st.caption(f"{len(pairs):,} pair{'s' * (len(pairs) != 1)} at or above {threshold:.3f} ({elapsed:.0f} ms)")
    if pairs.empty:
        st.info("No pair of products is this similar. Lower the threshold to see more.")
        return
    st.markdown(pairs_html(page_of(pairs), service), unsafe_allow_html=True)


def page_of(pairs: pd.DataFrame) -> pd.DataFrame:
    """The pairs of the page the curator chose, best first (a page picker when they do not fit on one)."""
    per_page = int(st.selectbox("Pairs a page", PAGE_SIZES, index=len(PAGE_SIZES) - 1, key="dup-per-page"))
    pages = -(-len(pairs) // per_page)
    page = 1
    if pages > 1:
        st.session_state["dup-page"] = min(st.session_state.get("dup-page", 1), pages)  # a higher threshold: fewer
        page = int(st.number_input("Page", 1, pages, key="dup-page", help=f"{pages} pages of {per_page} pairs"))
    first = (page - 1) * per_page
    shown = pairs.iloc[first : first + per_page]
    if pages > 1:
        st.caption(f"Pairs {first + 1:,}–{first + len(shown):,} of {len(pairs):,}, best first.")
    return shown


@st.cache_resource(max_entries=4, show_spinner="Comparing every product with its most similar…")
def candidate_pairs(index_dir: str, version: str, _index) -> pd.DataFrame:
    """The pairs at or above the slider's lowest threshold, once per index version (the slider only filters).

    Keyed by the version folder: every save makes one, in-app product edits included (not only rebuilds)."""
    return near_duplicates(_index, LOWEST, NEAR_DUPLICATE_K)


def pairs_html(pairs, service: engine.Lookalike) -> str:
    """One row per pair: product A, the score, product B (catalogue text escaped)."""
    products = service.index.meta.drop_duplicates("product_id").set_index("product_id")
    rows = [
        f'<div class="ll-pair"><div class="ll-score">{pair.score:.3f}</div>'
        f"{_tile(pair.product_a, products, service)}{_tile(pair.product_b, products, service)}</div>"
        for pair in pairs.itertuples(index=False)
    ]
    return PAIRS_CSS + f'<div class="ll-pairs" id="pairs">{"".join(rows)}</div>'


def _tile(product_id: str, products, service: engine.Lookalike) -> str:
    """A product's photo, name, category and id, linked to its lookalikes."""
    row = products.loc[product_id]
    src = data_uri(product_thumbnail(service, row["image"], row.get("content_hash", ""), THUMB))
    name = html_text(display_name(row["name"]))
    body = f"<span><b>{name}</b><br>{html_text(row['category'])}<br><code>{html_text(product_id)}</code></span>"
    return linked_tile("ll-side", product_href(product_id), src, name, body)


PAIRS_CSS = """<style>
.ll-pairs {display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 14px;}
.ll-pair {display: grid; grid-template-columns: 64px 1fr 1fr; gap: 10px; align-items: start; padding: 10px;
          border: 1px solid rgba(128,128,128,.35); border-radius: 8px;}
.ll-score {font-family: monospace; font-size: 1.05rem; color: #ff4b4b; padding-top: 4px;}
.ll-side {display: block; text-decoration: none; color: inherit; font-size: .8rem; line-height: 1.3;}
.ll-side img {width: 100%; aspect-ratio: 1; object-fit: contain; background: #fff; border-radius: 6px;}
</style>"""


if routed_through_app():
    duplicates_page()
