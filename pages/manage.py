"""Manage the catalogue (curators only): add one product, add many from a CSV and a zip of photos, remove products."""

from __future__ import annotations

import streamlit as st

import engine
from catalog.manage import EditReport, add_products, remove_products
from catalog.updater import UpdateError, index_busy
from catalog.uploads import UploadError, one_product, read_batch
from engine.curation import curator_tools_offered
from engine.images import IMAGE_SUFFIXES, ImageLoadError
from pages.box_editor import box_editor
from pages.curator import curator, updater_for
from pages.loading import service_or_stop
from pages.navigation import routed_through_app
from pages.shared import display_name, markdown_text, plain, sidebar_facts

PHOTO_TYPES = [suffix.lstrip(".") for suffix in IMAGE_SUFFIXES]
RESULT = "manage-result"  # session key: the last edit's (kind, message, lines), shown after the rerun


def manage_page() -> None:
    """Three tabs of forms; each write checks the curator mode again."""
    if not curator_tools_offered():
        st.error("This shop does not offer curator tools.")
        return
    service = service_or_stop()
    sidebar_facts(service, details=True)
    st.title("Manage the catalogue")
    if curator() is None:
        st.info("Unlock curator mode in the sidebar to add or remove products.")
        return
    _show_result()
    busy = index_busy(service.index_dir)
    if busy:
        st.warning(markdown_text(busy))
    one, many, gone, boxes = st.tabs(["Add one product", "Add many", "Remove products", "Product boxes"])
    with one:
        add_one(service)
    with many:
        add_many(service)
    with gone:
        remove_some(service)
    with boxes:
        edit_boxes(service)


def add_one(service: engine.Lookalike) -> None:
    """Photo, name, category, price, currency, link and an optional id."""
    with st.form(key="add-one", clear_on_submit=True):
        photo = st.file_uploader("Product photo", type=PHOTO_TYPES, key="add-photo")
        left, right = st.columns(2)
        fields = {
            "name": left.text_input("Name", key="add-name"),
            "category": right.text_input("Category", key="add-category"),
            "price": left.text_input("Price", key="add-price", placeholder="e.g. 1299.00"),
            "currency": right.text_input("Currency", key="add-currency", placeholder="e.g. HKD"),
            "url": left.text_input("Product link (http or https)", key="add-url"),
            "product_id": right.text_input("Product id (optional)", key="add-id"),
        }
        submitted = st.form_submit_button("Add product", key="add-one-button")
    if not submitted or _busy(service):
        return
    if photo is None:
        _outcome("error", "Choose a product photo first.")
        return
    try:
        products = [one_product(photo.getvalue(), fields, service.index_dir, _taken(service))]
    except (UploadError, ImageLoadError) as err:
        _outcome("error", f"Cannot add “{photo.name}”: {err}")
        return
    _add(service, products, [])


def add_many(service: engine.Lookalike) -> None:
    """A CSV (columns image, product_id, name, category, price, currency, url, …) and a zip of its photos."""
    st.caption(
        "The CSV needs an `image` column naming each photo inside the zip; `product_id`, `name`, `category`, "
        "`price`, `currency`, `url` and any other columns are kept. Bad rows and photos are listed and skipped."
    )
    with st.form(key="add-many", clear_on_submit=True):
        table = st.file_uploader("Product table (CSV)", type=["csv"], key="add-csv")
        photos = st.file_uploader("Photos (zip)", type=["zip"], key="add-zip")
        submitted = st.form_submit_button("Add products", key="add-many-button")
    if not submitted or _busy(service):
        return
    if table is None or photos is None:
        _outcome("error", "Choose both the CSV and the zip of photos.")
        return
    try:
        with st.spinner("Checking the photos…"):
            batch = read_batch(table.getvalue(), photos.getvalue(), service.index_dir, _taken(service))
    except UploadError as err:
        _outcome("error", str(err))
        return
    _add(service, batch.products, batch.problems)


def remove_some(service: engine.Lookalike) -> None:
    """Pick products by name or id, then remove them."""
    names = _products(service, "name")
    chosen = st.multiselect(
        "Products to remove",
        sorted(names),
        format_func=lambda pid: _label(pid, names),
        key="remove-products",
        placeholder="Type a name or an id",
    )
    if st.button(f"Remove {len(chosen)} product{'s' * (len(chosen) != 1)}", key="remove-button", disabled=not chosen):
        who = _writer()
        if who is None:
            return
        try:
            with st.spinner("Removing…"):
                report = remove_products(service.index_dir, chosen, who=who)
        except UpdateError as err:  # a build holds the index: said at once, nothing changed
            _outcome("error", str(err))
            return
        _finish("removed", report, [])


def edit_boxes(service: engine.Lookalike) -> None:
    """The box editor of any product, picked here (the same editor as on the product's catalogue page)."""
    images, names = _products(service), _products(service, "name")
    pick = st.selectbox("Product", sorted(images), format_func=lambda pid: _label(pid, names), key="boxes-product")
    if pick:
        box_editor(service, pick, images[pick])


def _add(service: engine.Lookalike, products: list[dict], problems: list[str]) -> None:
    """Embed and add the products with a progress bar, then report."""
    who = _writer()
    if who is None:
        return
    report = EditReport()
    if products:
        bar = st.progress(0.0, text=f"Adding {len(products)} products…")
        try:
            report = add_products(
                service.index_dir,
                products,
                who=who,
                updater=updater_for(service),
                progress=lambda done, total: bar.progress(done / total, text=f"Embedded {done} of {total} photos"),
            )
        except UpdateError as err:  # a build holds the index: said at once, nothing changed
            _outcome("error", str(err))
            return
    _finish("added", report, problems)


def _busy(service: engine.Lookalike) -> bool:
    """Whether a build is writing the index now; if so the curator is told at once (before any photo is stored)."""
    busy = index_busy(service.index_dir)
    if busy:
        _outcome("error", busy)
    return busy is not None


def _writer() -> str | None:
    """The curator's name right before a write; an error (and None) when the session is not unlocked."""
    who = curator()
    if who is None:
        st.error("Only an unlocked curator can change the catalogue.")
    return who


def _finish(verb: str, report: EditReport, problems: list[str]) -> None:
    """Keep the outcome to show after the rerun (which loads the new index version: pages/loading.py)."""
    lines = problems + [f"{pid}: {reason}" for pid, reason in report.refused]
    n = len(report.done)
    _outcome("success" if n else "warning", f"{verb.capitalize()} {n} product{'s' * (n != 1)}.", lines)


def _outcome(kind: str, message: str, lines: list[str] | None = None) -> None:
    """Keep a message (and the skipped rows) to show after the rerun that clears the submitted form."""
    st.session_state[RESULT] = (kind, message, lines or [])
    st.rerun()


def _show_result() -> None:
    """The last edit's outcome, and every row or photo that was skipped (kept until the next edit: clearing the
    submitted form reruns the page once more)."""
    if RESULT not in st.session_state:
        return
    kind, message, lines = st.session_state[RESULT]
    getattr(st, kind)(markdown_text(message))
    if lines:
        with st.expander(f"{len(lines)} skipped", expanded=True):
            st.markdown("\n".join(f"- {markdown_text(line)}" for line in lines))


def _products(service: engine.Lookalike, column: str = "image") -> dict[str, str]:
    """Product id -> a column of its first index row."""
    products = service.index.meta.drop_duplicates("product_id")
    return dict(zip(products["product_id"], products[column].fillna("")))


def _label(product_id: str, names: dict[str, str]) -> str:
    """'name · id' as one line of plain text."""
    return plain(f"{display_name(names.get(product_id))} · {product_id}")


def _taken(service: engine.Lookalike) -> set[str]:
    """Product ids already in the catalogue."""
    return set(service.index.meta["product_id"])


if routed_through_app():
    manage_page()
