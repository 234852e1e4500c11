"""Screenshots of the curator tools: the box editor on a product's page, and the Manage catalogue page.

    python scripts/screenshot_curator.py --index INDEX_DIR --password PW [--product ID] [--out-dir docs]

Starts `streamlit run app.py` in curator mode over INDEX_DIR (use a copy: the editor creates its database
there), signs in, draws a box on the product photo without saving it, then fills the add-a-product form
without submitting it. Needs the dev tools (Playwright with Debian chromium).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

import engine
from engine.curation.catalogue_files import ImageFiles
from scripts.serverlib import CHROMIUM_ARGS, chromium_path, running_server
from scripts.shopper import BUSY_RESET_JS, QUIET_FOR_JS

EDITOR_WIDTH = 480  # pages/box_editor.py
PRODUCT_PIXEL = 235  # a pixel whose smallest channel is below this is product, not white background
DEMO_PRODUCT = "190.526.21"  # KLIPPAN sofa: the build indexed two small "decor" boxes, not the sofa
TIMEOUT = 180_000  # ms: a fresh server loads its models first


def default_product(index_dir: Path) -> str:
    """The demo sofa when the index has it, else the first product with at least two detected objects."""
    meta = engine.CatalogIndex.load(index_dir).meta
    if (meta["product_id"] == DEMO_PRODUCT).any():
        return DEMO_PRODUCT
    counts = meta[meta["kind"] == "object"].groupby("product_id").size()
    return str(sorted(counts[counts >= 2].index)[0] if (counts >= 2).any() else meta["product_id"].iloc[0])


def drawn_box(index_dir: Path, product_id: str) -> tuple[float, ...]:
    """Canvas pixels of the box to draw: around the product's pixels (a catalogue shot is a product on white)."""
    index = engine.CatalogIndex.load(index_dir)
    files = ImageFiles.of_index(index.manifest["images_root"], index_dir)
    picture = engine.load_image(files.path(index.meta.loc[index.meta["product_id"] == product_id, "image"].iloc[0]))
    ys, xs = np.nonzero(np.asarray(picture).min(axis=2) < PRODUCT_PIXEL)
    box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) if len(xs) else (0, 0, picture.width, picture.height)
    return tuple(float(v) * EDITOR_WIDTH / picture.width for v in box)


def sign_in(page, password: str) -> None:
    """The curator form (a curator page's sidebar, or inside the box editor on a product's page)."""
    page.get_by_label("Your name (recorded with your changes)").fill("Ana", timeout=TIMEOUT)
    page.get_by_label("Curator password").fill(password)
    page.get_by_role("button", name="Unlock").click()
    page.get_by_text("Unlocked as Ana").wait_for()


def box_editor_shot(page, url: str, password: str, product: str, box, out: Path) -> None:
    """Open the product's page, sign in, open its box editor, draw a box, save a screenshot."""
    page.goto(f"{url}/catalogue?product={product.replace('/', '%2F')}", timeout=TIMEOUT)
    page.get_by_text("Curator: this product's box").click()
    sign_in(page, password)  # inside the box editor: a shopper's sidebar has no sign-in
    canvas = page.locator('[class*="st-key-box-canvas-"] canvas.upper-canvas')
    canvas.wait_for()
    settle(page)
    canvas.scroll_into_view_if_needed()
    origin = canvas.bounding_box()
    page.mouse.move(origin["x"] + box[0], origin["y"] + box[1])
    page.mouse.down()
    page.mouse.move(origin["x"] + box[2], origin["y"] + box[3], steps=10)
    page.mouse.up()
    page.get_by_text("your box", exact=True).wait_for()
    settle(page)
    page.get_by_role("button", name="Save this box").scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(out))


def manage_shot(page, url: str, password: str, photo: Path, out: Path) -> None:
    """The Manage catalogue page with the add-one form filled in (not submitted)."""
    page.goto(f"{url}/manage", timeout=TIMEOUT)
    sign_in(page, password)
    page.get_by_role("heading", name="Manage the catalogue").wait_for()
    page.get_by_test_id("stFileUploader").first.locator('input[type="file"]').set_input_files(str(photo))
    page.get_by_test_id("stFileChipName").first.wait_for()
    page.get_by_label("Name").fill("KIVIK armchair, Hillared anthracite")
    page.get_by_label("Category").fill("Armchair")
    page.get_by_label("Price").fill("2490")
    page.get_by_label("Currency").fill("HKD")
    page.get_by_label("Product link (http or https)").fill("https://www.ikea.com/")
    page.wait_for_timeout(1500)
    page.screenshot(path=str(out))


def settle(page, quiet_ms: int = 750) -> None:
    """Wait until no Streamlit script run has been going for `quiet_ms` (scripts/shopper.py)."""
    page.evaluate(BUSY_RESET_JS)
    page.wait_for_function(QUIET_FOR_JS, arg=quiet_ms, polling=100)


def main(argv: list[str] | None = None) -> int:
    """Start the app, take both screenshots, stop it."""
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True, help="index folder (a copy: the editor writes there)")
    parser.add_argument("--password", required=True, help="the curator password the server is started with")
    parser.add_argument("--product", help=f"product whose box editor is shown (default: {DEMO_PRODUCT})")
    parser.add_argument("--photo", type=Path, help="photo put in the add-a-product form (default: the product's)")
    parser.add_argument("--out-dir", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    product = args.product or default_product(args.index)
    box = drawn_box(args.index, product)
    meta = engine.CatalogIndex.load(args.index)
    photo = args.photo or ImageFiles.of_index(meta.manifest["images_root"], args.index).path(
        meta.meta.loc[meta.meta["product_id"] == product, "image"].iloc[0]
    )
    os.environ.update(LOOKALIKE_MODE="curator", LOOKALIKE_CURATOR_PASSWORD=args.password)
    with (
        tempfile.TemporaryDirectory() as logs,
        running_server(args.index, Path(logs)) as server,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1250})
        page.set_default_timeout(TIMEOUT)
        box_editor_shot(page, server.url, args.password, product, box, args.out_dir / "screenshot-box-editor.png")
        manage_shot(page, server.url, args.password, photo, args.out_dir / "screenshot-manage.png")
        browser.close()
    print(f"box editor of {product} and the Manage catalogue page saved in {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
