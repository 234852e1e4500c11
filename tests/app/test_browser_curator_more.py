"""More curator pages in headless Chromium against a real `streamlit run app.py`: near duplicates, removing
products on the manage page, and the curation review of marks saved under a result grid.

One curator-mode server over a private copy of the small index (`curator_server`), shared by the module: the
tests add, remove and mark products there, and compute what the page should show from that copy at test time.
"""

from __future__ import annotations

import re
import shutil
from urllib.parse import unquote

import pandas as pd
import pytest
from PIL import Image

import engine
from catalog.manage import remove_products
from engine.curation import NOT_SIMILAR, SIMILAR, FeedbackStore, ManagedProducts
from engine.search import NEAR_DUPLICATE_K, near_duplicates
from tests.app import test_browser_curator
from tests.app.test_browser import DETECT_TIMEOUT, choose, results, settle, subheader, upload
from tests.app.test_browser_curator import sign_in
from tests.conftest import CATALOG

pytestmark = pytest.mark.browser
HOSTILE = "<img src=x onerror=alert(1)>"
THRESHOLD = 0.95  # the duplicates page's default
DATA_JPEG = "data:image/jpeg;base64,"
REVIEW_COLUMNS = ["Query crop", "Product", "Name", "Product id", "Verdict", "Chosen", "Rank", "Score"]
REVIEW_COLUMNS += ["Marked (UTC)", "Curator", "Query"]

curator_server = test_browser_curator.curator_server  # this module's own server (module scope)
page = test_browser_curator.page


def test_a_hostile_product_name_shows_as_text_on_the_duplicates_page(page, curator_server, tmp_path):
    """A product added with an HTML name under another's photo pairs with it; the name is text, not an element."""
    from playwright.sync_api import expect

    url, index = curator_server
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    original = "lamps/1210"
    photo = tmp_path / "hostile.jpg"
    shutil.copyfile(CATALOG / "lamps" / "1210.jpg", photo)
    open_page(page, f"{url}/manage", "Manage the catalogue", signed_in=True)
    page.get_by_test_id("stFileUploader").first.locator('input[type="file"]').set_input_files(str(photo))
    expect(page.get_by_test_id("stFileChipName").filter(has_text="hostile.jpg")).to_be_visible()
    settle(page)
    page.get_by_label("Name").fill(HOSTILE)
    page.get_by_label("Category").fill("lamps")
    page.get_by_role("button", name="Add product").click()
    expect(page.get_by_text("Added 1 product.")).to_be_visible()
    added = next(p["product_id"] for p in ManagedProducts(index).added() if p["name"] == HOSTILE)

    open_page(page, f"{url}/duplicates", "Near duplicates", signed_in=True)
    pair = page.locator("#pairs .ll-pair").filter(has=page.locator("code", has_text=added))
    expect(pair).to_have_count(1)
    expect(pair.locator("a.ll-side code")).to_have_text(sorted([added, original]))
    score = float(pair.locator(".ll-score").inner_text())
    assert score >= 0.99, "the same photo, re-encoded, should look the same"
    hostile_side = pair.locator("a.ll-side").filter(has=page.locator("code", has_text=added))
    expect(hostile_side.locator("b")).to_have_text(HOSTILE)
    expect(hostile_side).to_have_attribute("title", HOSTILE)
    expect(hostile_side.locator("img")).to_have_count(1)  # its thumbnail, nothing injected
    expect(hostile_side.locator("img")).to_have_attribute("alt", HOSTILE)
    expect(page.locator('#pairs img[src="x"]')).to_have_count(0)
    assert not dialogs, dialogs


def test_duplicates_page_lists_the_index_pairs_with_two_photos_and_a_score(page, curator_server):
    """Every pair at the default threshold, best first: its score and two linked product photos."""
    from playwright.sync_api import expect

    url, index = curator_server
    expected = pairs_of(index)
    assert len(expected), "the small index should hold near-duplicate pairs at the default threshold"
    open_page(page, f"{url}/duplicates", "Near duplicates", signed_in=True)
    expect(page.get_by_text(f"{len(expected)} pair{'s' * (len(expected) != 1)} at or above 0.950")).to_be_visible()
    pairs = page.locator("#pairs .ll-pair")
    expect(pairs).to_have_count(min(len(expected), 100))
    for row, pair in zip(pairs.all(), expected.head(5).itertuples()):
        expect(row.locator(".ll-score")).to_have_text(f"{pair.score:.3f}")
        expect(row.locator("a.ll-side code")).to_have_text([pair.product_a, pair.product_b])
        sides = row.locator("a.ll-side img")
        expect(sides).to_have_count(2)
        for img in sides.all():
            assert img.get_attribute("src").startswith(DATA_JPEG)
            assert img.evaluate("i => i.complete && i.naturalWidth > 0"), "a thumbnail that does not decode"


def test_a_duplicate_tile_opens_that_products_catalogue_page(page, curator_server):
    """Clicking the second product of the best pair shows its lookalikes on the catalogue page."""
    from playwright.sync_api import expect

    url, index = curator_server
    best = pairs_of(index).iloc[0]
    name = product_names(index)[best.product_b]
    open_page(page, f"{url}/duplicates", "Near duplicates", signed_in=True)
    tile = page.locator("#pairs .ll-pair").first.locator("a.ll-side").nth(1)
    expect(tile).to_have_attribute("title", name)
    tile.click()
    expect(page.get_by_role("heading", name=f"Like {name}")).to_be_visible(timeout=DETECT_TIMEOUT)
    assert f"/catalogue?product={best.product_b.replace('/', '%2F')}&catalogue=" in page.url, page.url  # keeps it
    expect(results(page).locator('[data-tag="T"]')).to_contain_text(name)
    expect(results(page).locator('[data-tag="M1"] img')).to_have_attribute("src", re.compile(r"/media/\w+\.jpg$"))


def test_a_removed_product_leaves_the_duplicates_page(page, curator_server):
    """After a product of a listed pair is removed, the duplicates page (its pairs cached per index version)
    still works and no longer lists it."""
    from playwright.sync_api import expect

    url, index = curator_server
    gone = pairs_of(index).iloc[0].product_b
    listed = page.locator("#pairs code").filter(has_text=re.compile(f"^{re.escape(gone)}$"))
    open_page(page, f"{url}/duplicates", "Near duplicates", signed_in=True)
    expect(listed).not_to_have_count(0)
    remove_products(index, [gone], who="test")
    open_page(page, f"{url}/duplicates", "Near duplicates", signed_in=True)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(listed).to_have_count(0)


def test_remove_a_product_on_the_manage_page(page, curator_server):
    """A curator removes a product: its catalogue page is gone and its near duplicate's lookalikes leave it out."""
    from playwright.sync_api import expect

    url, index = curator_server
    best = pairs_of(index, 0.80).iloc[0]  # the most alike products left (earlier tests remove some)
    keep, gone = best.product_a, best.product_b
    name = product_names(index)[gone]
    products = len(product_names(index))
    gone_link = f'a[href^="catalogue?product={gone.replace("/", "%2F")}&"]'  # then &catalogue=…

    page.goto(f"{url}/catalogue?product={keep.replace('/', '%2F')}", timeout=2 * DETECT_TIMEOUT)
    expect(results(page).locator('[data-tag="M1"]')).to_be_visible(timeout=DETECT_TIMEOUT)
    expect(results(page).locator(gone_link)).not_to_have_count(0)  # before: its near duplicate is a lookalike

    open_page(page, f"{url}/manage", "Manage the catalogue", signed_in=True)
    page.get_by_role("tab", name="Remove products").click()
    button = page.get_by_role("button", name="Remove 0 products")
    expect(button).to_be_disabled()
    pick(page, "remove-products", f"{name} · {gone}", typed=gone)
    page.get_by_role("button", name="Remove 1 product", exact=True).click()
    expect(page.get_by_text("Removed 1 product.")).to_be_visible()
    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Products: {products - 1}")
    assert gone not in product_names(index)
    assert gone in ManagedProducts(index).removed()

    page.goto(f"{url}/catalogue?product={keep.replace('/', '%2F')}", timeout=2 * DETECT_TIMEOUT)
    expect(results(page).locator('[data-tag="M1"]')).to_be_visible(timeout=DETECT_TIMEOUT)
    expect(results(page).locator(gone_link)).to_have_count(0)
    page.goto(f"{url}/catalogue?product={gone.replace('/', '%2F')}")
    expect(page.get_by_text(f"Unknown product “{gone}”")).to_be_visible(timeout=DETECT_TIMEOUT)


def test_marks_saved_under_a_result_grid_show_on_the_review_page_and_in_its_csv(page, curator_server):
    """Before any mark the review says so; a curator marks M1 similar (chosen) and M2 not similar on the shop
    page; the review's table and CSV download hold them (and the other matches, with no verdict)."""
    from playwright.sync_api import expect

    url, index = curator_server
    open_page(page, f"{url}/review", "Curation review", signed_in=True)
    expect(page.get_by_text("No curator marks yet")).to_be_visible()

    open_page(page, f"{url}/about", "About Lookalike", signed_in=True)  # the sign-in is not on a shopper page
    page.get_by_role("link", name="Shop the look").click()  # the app's own navigation: the session stays signed in
    expect(page.get_by_role("heading", name="Shop the look", exact=True)).to_be_visible(timeout=DETECT_TIMEOUT)
    choose(page, "source", "Upload")
    upload(page, CATALOG / "chairs" / "989.jpg")  # a product shot: its whole photo is searched at once
    expect(subheader(page)).to_have_text("Products like whole photo", timeout=DETECT_TIMEOUT)
    grid = results(page)
    expect(grid.locator('[data-tag="M3"]')).to_be_visible()
    first, second, third = (product_in_tile(grid, tag) for tag in ("M1", "M2", "M3"))
    shown = grid.locator(".ll-tile").count() - 1  # T, then M1..Mk
    page.get_by_test_id("stExpander").get_by_text("Curate these matches").click()
    verdict(page, "M1", "similar")
    verdict(page, "M2", "not similar")
    chosen = page.locator('[class*="st-key-chosen-"] input')  # a selectbox
    settle(page)  # a late rerun would close its list
    chosen.focus()
    page.keyboard.press("ArrowDown")  # opens the list (a mouse click on the field leaves it closed here)
    page.get_by_role("option", name="M1", exact=True).click()
    expect(chosen).to_have_value("M1")
    page.get_by_role("button", name="Save marks").click()
    expect(page.get_by_text("Saved 2 marks and the chosen pair M1.")).to_be_visible()

    open_page(page, f"{url}/review", "Curation review", signed_in=True)
    counted = (
        f"{shown} of {shown} marks (2 with a verdict or chosen; the others were shown without one) over 1 query crop"
    )
    expect(page.get_by_text(counted, exact=True)).to_be_visible()  # one per match shown, 2 of them judged
    names = product_names(index)
    rows = table_rows(page)
    details = [[row[c] for c in ("Name", "Product id", "Verdict", "Chosen", "Rank")] for row in rows]
    assert details[:3] == [  # newest first: the chosen pair, then the others by rank
        [names[first], first, "similar", "true", "1"],
        [names[second], second, "not similar", "false", "2"],
        [names[third], third, "no verdict", "false", "3"],
    ]
    for row in rows:
        assert row["Query crop"].startswith(DATA_JPEG) and row["Product"].startswith(DATA_JPEG)
    marks = download_csv(page).sort_values("rank")
    assert len(marks) == shown
    assert list(zip(marks["product_id"], marks["verdict"], marks["chosen"], marks["rank"]))[:3] == [
        (first, SIMILAR, True, 1),
        (second, NOT_SIMILAR, False, 2),
        (third, "", False, 3),
    ]
    assert set(marks["source"]) == {"shop"}
    assert list(marks["name"]) == [names[product] for product in marks["product_id"]]


def test_review_verdict_filter_narrows_the_count_and_the_csv(page, curator_server):
    """Filtering on "not similar" counts, shows and exports only those marks (an HTML source kept verbatim)."""
    from playwright.sync_api import expect

    url, index = curator_server
    product = sorted(product_names(index))[0]
    store = FeedbackStore(index)
    store.save_marks(Image.new("RGB", (40, 30), (10, 120, 200)), [(product, NOT_SIMILAR, 3, 0.5)], None, HOSTILE)
    table = store.review_table()
    wanted = table[table["verdict"] == NOT_SIMILAR]

    open_page(page, f"{url}/review", "Curation review", signed_in=True)
    expect(page.get_by_text(f"{len(table)} of {len(table)} marks (")).to_be_visible()
    pick(page, "review-verdicts", "not similar")
    crops = wanted["query_id"].nunique()
    shown = f"{len(wanted)} of {len(table)} marks ({len(wanted)} with a verdict or chosen; the others were shown"
    shown += f" without one) over {crops} query crop{'s' * (crops != 1)}"
    expect(page.get_by_text(shown, exact=True)).to_be_visible()
    rows = table_rows(page)
    assert {row["Verdict"] for row in rows} == {"not similar"}
    assert sorted(row["Product id"] for row in rows) == sorted(wanted["product_id"])  # every one fits on screen
    marks = download_csv(page)
    assert set(marks["verdict"]) == {NOT_SIMILAR}
    assert sorted(marks["product_id"]) == sorted(wanted["product_id"])
    assert HOSTILE in set(marks["source"])  # a plain cell: safe_csv only defuses formula prefixes


def open_page(page, url: str, title: str, signed_in: bool = False) -> None:
    """Go to a page of the app, wait for its title, and unlock curator mode when asked."""
    from playwright.sync_api import expect

    page.goto(url, timeout=2 * DETECT_TIMEOUT)
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible(timeout=DETECT_TIMEOUT)
    if signed_in:
        sign_in(page)
        expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    settle(page)


def pairs_of(index, threshold: float = THRESHOLD) -> pd.DataFrame:
    """The near-duplicate pairs the duplicates page should show at a threshold (its default one), best first."""
    return near_duplicates(engine.CatalogIndex.load(index), threshold, NEAR_DUPLICATE_K)


def product_names(index) -> dict[str, str]:
    """Product id -> name, in the index's live version."""
    meta = engine.CatalogIndex.load(index).meta.drop_duplicates("product_id")
    return dict(zip(meta["product_id"], meta["name"]))


def product_in_tile(grid, tag: str) -> str:
    """The product id a result tile links to ("More like this")."""
    href = grid.locator(f'[data-tag="{tag}"]').get_by_role("link", name="More like this").get_attribute("href")
    return unquote(href.split("product=", 1)[1].split("&", 1)[0])


def verdict(page, tag: str, label: str) -> None:
    """Pick a match's verdict in the curation form (its radio is labelled "M1 · name")."""
    group = page.get_by_role("radiogroup", name=re.compile(f"^{tag} · "))
    group.get_by_text(label, exact=True).click()


def pick(page, key: str, option: str, typed: str = "") -> None:
    """Choose one option of the multiselect with that widget key (typing to filter first), then close its list."""
    field = page.locator(f".st-key-{key} input")
    field.click()
    if typed:
        field.fill(typed)
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")  # the open list makes the rest of the page inert
    settle(page)


def table_rows(page) -> list[dict[str, str]]:
    """The review table's rows on screen, as column -> cell text (the data grid's accessible table holds only
    the rows and columns it draws)."""
    from playwright.sync_api import expect

    grid = page.get_by_test_id("stDataFrame").locator("table[role=grid]")
    expect(grid.locator("thead th").first).to_have_text("Query crop")
    header = grid.locator("thead th").all_inner_texts()
    assert header == REVIEW_COLUMNS[: len(header)] and len(header) >= 7, header  # up to Rank at least
    return [dict(zip(header, row.locator("td").all_inner_texts())) for row in grid.locator("tbody tr").all()]


def download_csv(page) -> pd.DataFrame:
    """Click the review's CSV download and read what the browser saved."""
    with page.expect_download() as info:
        page.get_by_role("button", name="Download these marks (CSV)").click()
    download = info.value
    assert download.suggested_filename == "curator-marks.csv"
    return pd.read_csv(download.path(), keep_default_na=False)
