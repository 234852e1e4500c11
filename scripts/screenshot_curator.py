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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from serverlib import CHROMIUM_ARGS, chromium_path, running_server  # noqa: E402
from shopper import BUSY_RESET_JS, QUIET_FOR_JS  # noqa: E402

import engine  # noqa: E402
from engine.catalogue_files import ImageFiles  # noqa: E402

EDITOR_WIDTH = 480  # pages/box_editor.py
TIMEOUT = 180_000  # ms: a fresh server loads its models first


def product_with_objects(index_dir: Path) -> str:
    """The first product (by id) with at least two detected objects in the index."""
    meta = engine.CatalogIndex.load(index_dir).meta
    counts = meta[meta["kind"] == "object"].groupby("product_id").size()
    return str(sorted(counts[counts >= 2].index)[0] if (counts >= 2).any() else meta["product_id"].iloc[0])


def drawn_box(index_dir: Path, product_id: str) -> tuple[float, ...]:
    """Canvas pixels of the box to draw: around all the product's detected objects (else its middle)."""
    service_meta = engine.CatalogIndex.load(index_dir)
    rows = service_meta.meta[service_meta.meta["product_id"] == product_id]
    files = ImageFiles.of_index(service_meta.manifest["images_root"], index_dir)
    width = engine.load_image(files.path(rows["image"].iloc[0])).width
    objects = rows[rows["kind"] == "object"]
    if objects.empty:
        box = (width * 0.2, width * 0.2, width * 0.8, width * 0.8)
    else:
        box = (objects["x0"].min(), objects["y0"].min(), objects["x1"].max(), objects["y1"].max())
    return tuple(v * EDITOR_WIDTH / width for v in box)


def sign_in(page, password: str) -> None:
    """The sidebar's curator form."""
    page.get_by_label("Your name (recorded with your changes)").fill("Ana", timeout=TIMEOUT)
    page.get_by_label("Curator password").fill(password)
    page.get_by_role("button", name="Unlock").click()
    page.get_by_text("Unlocked as Ana").wait_for()


def box_editor_shot(page, url: str, password: str, product: str, box, out: Path) -> None:
    """Open the product's page, sign in, open its box editor, draw a box, save a screenshot."""
    page.goto(f"{url}/catalogue?product={product.replace('/', '%2F')}", timeout=TIMEOUT)
    sign_in(page, password)
    page.get_by_text("Curator: this product's box").click()
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
    parser.add_argument("--product", help="product whose box editor is shown (default: one with 2+ detections)")
    parser.add_argument("--photo", type=Path, help="photo put in the add-a-product form (default: the product's)")
    parser.add_argument("--out-dir", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    product = args.product or product_with_objects(args.index)
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
