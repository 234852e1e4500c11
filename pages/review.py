"""Curation review (read-only, signed-in curators only): every curator mark with its crop, filterable, as CSV."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st
from PIL import Image

import engine
from engine.curation import FEEDBACK_FILE, NOT_SIMILAR, SIMILAR, safe_csv
from pages.curation import feedback_store
from pages.curator import require_curator
from pages.loading import service_or_stop
from pages.navigation import routed_through_app
from pages.shared import data_uri, display_name, jpeg_bytes, product_thumbnail, sidebar_facts

SHOWN_ROWS = 500  # the table shows the newest this many; the CSV has every filtered mark
CROP_SIDE = 96
VERDICTS = {"similar": SIMILAR, "not similar": NOT_SIMILAR, "no verdict": ""}
CHOSEN = "chosen pair"
CSV_COLUMNS = ["updated", "who", "query_id", "product_id", "name", "category", "verdict", "chosen", "rank", "score"]
CSV_COLUMNS += ["source", "box", "embedding", "created"]


def review_page() -> None:
    """Load the marks of the app's index, filter them, show them with crops, offer the filtered CSV."""
    require_curator("Curation review")
    service = service_or_stop()
    sidebar_facts(service, details=True)
    st.title("Curation review")
    if not (service.index_dir / FEEDBACK_FILE).is_file():
        st.info("No curator marks yet: mark matches under a result grid (“Curate these matches”).")
        return
    store = feedback_store(str(service.index_dir))
    marks = with_products(store.review_table(), service)
    if marks.empty:
        st.info("No curator marks yet: mark matches under a result grid (“Curate these matches”).")
        return
    shown = filtered(marks)
    judged, crops = int(((shown["verdict"] != "") | shown["chosen"]).sum()), shown["query_id"].nunique()
    st.caption(
        f"{len(shown):,} of {len(marks):,} marks ({judged:,} with a verdict or chosen; the others were shown "
        f"without one) over {crops:,} query crop{'s' * (crops != 1)}"
        + (f" · the newest {SHOWN_ROWS:,} are shown; the CSV has all of them" if len(shown) > SHOWN_ROWS else "")
    )
    st.download_button(
        "Download these marks (CSV)",
        safe_csv(export_table(shown)),
        file_name="curator-marks.csv",
        mime="text/csv",
        key="review-csv",
    )
    st.dataframe(display_table(shown.head(SHOWN_ROWS), store, service), key="review-table", **TABLE_STYLE)


def with_products(marks: pd.DataFrame, service: engine.Lookalike) -> pd.DataFrame:
    """The marks with each product's name, category and catalogue image (empty for products no longer indexed)."""
    products = service.index.meta.drop_duplicates("product_id").set_index("product_id")
    for column in ("name", "category", "image"):
        values = products[column] if column in products else pd.Series(dtype=object)
        marks[column] = marks["product_id"].map(values).fillna("").astype(str)
    return marks


def filtered(marks: pd.DataFrame) -> pd.DataFrame:
    """The marks passing the verdict, product and text filters."""
    left, middle, right = st.columns([2, 3, 2])
    verdicts = left.multiselect("Verdict", [*VERDICTS, CHOSEN], key="review-verdicts", placeholder="Any verdict")
    names = marks.drop_duplicates("product_id").set_index("product_id")["name"].to_dict()
    products = middle.multiselect(
        "Product",
        sorted(names),
        format_func=lambda p: f"{display_name(names[p])} ({p})",
        key="review-products",
        placeholder="Any product",
    )
    text = right.text_input("Text", key="review-text", placeholder="name, id, category, curator, source")
    keep = pd.Series(True, index=marks.index)
    if verdicts:
        keep &= marks["verdict"].isin([VERDICTS[v] for v in verdicts if v in VERDICTS]) | (
            marks["chosen"] & (CHOSEN in verdicts)
        )
    if products:
        keep &= marks["product_id"].isin(products)
    if text:
        columns = ["product_id", "name", "category", "who", "source", "embedding"]
        haystack = marks[columns].astype(str).agg(" ".join, axis=1)
        keep &= haystack.str.contains(text, case=False, regex=False)
    return marks[keep]


def export_table(marks: pd.DataFrame) -> pd.DataFrame:
    """The CSV's columns, times as ISO 8601 text."""
    table = marks[CSV_COLUMNS].copy()
    for column in ("updated", "created"):
        table[column] = table[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return table


def _thumb(service: engine.Lookalike, image: str) -> str:
    """A catalogue photo as an inline thumbnail."""
    return data_uri(product_thumbnail(service, image, size=CROP_SIDE))


def display_table(marks: pd.DataFrame, store, service: engine.Lookalike) -> pd.DataFrame:
    """The rows shown: query crop and product image as inline thumbnails, then the mark's details."""
    crops = {q: data_uri(jpeg_bytes(Image.open(io.BytesIO(png)).convert("RGB"), CROP_SIDE)) for q, png in
             store.crops(marks["query_id"]).items()}  # fmt: skip
    return pd.DataFrame(
        {
            "Query crop": marks["query_id"].map(crops),
            "Product": [_thumb(service, i) if i else None for i in marks["image"]],
            "Name": [display_name(n) if i else "" for n, i in zip(marks["name"], marks["image"])],  # "": not indexed
            "Product id": marks["product_id"],
            "Verdict": marks["verdict"].map({v: k for k, v in VERDICTS.items()}),
            "Chosen": marks["chosen"],
            "Rank": marks["rank"],
            "Score": marks["score"],
            "Marked": marks["updated"],
            "Curator": marks["who"],
            "Query": marks["query_id"],
        }
    )


TABLE_STYLE = {
    "hide_index": True,
    "row_height": CROP_SIDE // 2 + 24,
    "column_config": {
        "Query crop": st.column_config.ImageColumn("Query crop", width="small"),
        "Product": st.column_config.ImageColumn("Product", width="small"),
        "Chosen": st.column_config.CheckboxColumn("Chosen"),
        "Score": st.column_config.NumberColumn("Score", format="%.3f"),
        "Marked": st.column_config.DatetimeColumn("Marked (UTC)", format="YYYY-MM-DD HH:mm"),
    },
}


if routed_through_app():
    review_page()
