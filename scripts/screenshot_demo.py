"""Screenshot of the running demo: the first sample room, a click on its largest detection, the T/M grid.

    python scripts/screenshot_demo.py --url http://localhost:8501 --out docs/screenshot-demo.png

Needs the dev tools (Playwright with Debian chromium). The click position is computed from the same engine
the app uses, so the picture shows what a shopper clicking that object sees.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

import engine
from engine.detection.distinct import distinct_detections
from engine.geometry import smallest_box_at
from engine.settings import default_index_dir, sample_rooms_dir

CANVAS_WIDTH = 820  # pages/shop.py
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def listed_products(photo: Path) -> set[str]:
    """The product ids the demo's rooms.csv lists for a room photo (empty when it lists none)."""
    rooms = pd.read_csv(photo.parent.parent / "rooms.csv", dtype=str, keep_default_na=False)
    row = rooms[rooms["image"].map(lambda image: Path(image).name) == photo.name]
    return {Path(p).stem for p in row["products"].iloc[0].split()} if len(row) else set()


def largest_box_centre(index_dir: Path, photo: Path, listed_first: bool = False) -> tuple[float, float, str]:
    """Canvas point that selects the largest box the app draws on the photo (with `listed_first`, the largest whose
    first match is a product the room's photo lists), and that box's label."""
    service = engine.load(index_dir)
    image = engine.load_image(photo)
    analysis = service.analyse(image)
    found = analysis.detections
    shown, _ = distinct_detections(found)
    if listed_first:
        listed = listed_products(photo)
        shown = [i for i in shown if service.search_box(analysis, found[i].box, k=1)[0].product_id in listed]
    if not shown:
        raise SystemExit(f"no {'rightly matched ' if listed_first else ''}detection in {photo.name}: nothing to click")
    boxes = [found[i].box for i in shown]
    scale = min(1.0, CANVAS_WIDTH / image.width)
    for n in sorted(range(len(shown)), key=lambda n: -(boxes[n][2] - boxes[n][0]) * (boxes[n][3] - boxes[n][1])):
        x0, y0, x1, y1 = boxes[n]
        for fx, fy in ((0.5, 0.5), (0.5, 0.8), (0.2, 0.5), (0.8, 0.5), (0.5, 0.2)):
            x, y = x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)
            if smallest_box_at(boxes, x, y) == n:  # the app picks the smallest box under the pointer
                best = found[shown[n]]
                return x * scale, y * scale, f"{best.class_name} {best.confidence:.2f}"
    raise SystemExit(f"no drawn box of {photo.name} can be clicked on its own")


def main(argv: list[str] | None = None) -> int:
    """Open the app, click, wait for the grid, save a full-page screenshot."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:8501")
    parser.add_argument("--index", type=Path, default=default_index_dir())
    parser.add_argument("--out", type=Path, default=Path("docs/screenshot-shop.png"))
    parser.add_argument("--room", default=None, help="sample room file name (default: the page's default sample)")
    parser.add_argument("--listed", action="store_true", help="click a box whose first match the room's photo lists")
    args = parser.parse_args(argv)
    samples = sorted(sample_rooms_dir().glob("*.jpg"))
    photo = sample_rooms_dir() / args.room if args.room else samples[0]  # default: the page's default sample
    x, y, label = largest_box_centre(args.index, photo, args.listed)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2300})  # Streamlit scrolls inside; show it all
        page.goto(args.url, timeout=120_000)
        page.locator(".st-key-source").wait_for(timeout=180_000)  # the server has loaded its models
        if args.room:  # another room than the default sample: upload it
            page.locator(".st-key-source").get_by_text("Upload", exact=True).click()
            page.get_by_test_id("stFileUploader").locator('input[type="file"]').set_input_files(str(photo))
        canvas = page.locator('[class*="st-key-canvas-"][class*="-True"] img.ll-photo')
        canvas.wait_for(timeout=120_000)
        heading = page.get_by_role("heading", name=re.compile("^Products like"))
        for _ in range(3):  # a click made while the fresh canvas is still settling can be dropped: retry
            page.wait_for_timeout(4000)
            canvas.click(position={"x": x, "y": y})
            try:
                heading.wait_for(timeout=30_000)
                break
            except PlaywrightTimeout:
                continue
        page.locator("#results [data-tag='M10'] img").wait_for(timeout=60_000)
        page.wait_for_timeout(2000)
        page.screenshot(path=str(args.out), full_page=True)
        browser.close()
    print(f"clicked the {label} at ({x:.0f}, {y:.0f}) on {photo.name}; saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
