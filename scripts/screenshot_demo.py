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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import engine  # noqa: E402
from engine.settings import default_index_dir, sample_rooms_dir  # noqa: E402

CANVAS_WIDTH = 820  # pages/shop.py
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def largest_box_centre(index_dir: Path, photo: Path) -> tuple[float, float, str]:
    """Canvas coordinates of the centre of the largest detection in the photo, and its label."""
    service = engine.load(index_dir)
    image = engine.load_image(photo)
    found = service.analyse(image).detections
    if not found:
        raise SystemExit(f"no detection in {photo.name}: nothing to click")
    best = max(found, key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]))
    scale = min(1.0, CANVAS_WIDTH / image.width)
    x0, y0, x1, y1 = best.box
    return (x0 + x1) / 2 * scale, (y0 + y1) / 2 * scale, f"{best.class_name} {best.confidence:.2f}"


def main(argv: list[str] | None = None) -> int:
    """Open the app, click, wait for the grid, save a full-page screenshot."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:8501")
    parser.add_argument("--index", type=Path, default=default_index_dir())
    parser.add_argument("--out", type=Path, default=Path("docs/screenshot-demo.png"))
    args = parser.parse_args(argv)
    photo = sorted(sample_rooms_dir().glob("*.jpg"))[0]  # the page's default sample
    x, y, label = largest_box_centre(args.index, photo)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2300})  # Streamlit scrolls inside; show it all
        page.goto(args.url, timeout=120_000)
        canvas = page.locator('[class*="st-key-canvas-"][class*="-True"] canvas.upper-canvas')
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
