"""Screenshots of shop the whole room (a sample room in presenter mode, a product card open) and of the curator
pages (curation review, near duplicates) of a running app.

    python scripts/screenshot_room.py --url http://localhost:8501 --out docs

Needs the dev tools (Playwright with Debian chromium). The review page shows whatever marks the app's index has.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import quote

from scripts.serverlib import CHROMIUM_ARGS, chromium_path

DEFAULT_ROOM = "ikea-a-cosy-space-for-coffee-and-conversation__1364308407140-s4.jpg"
VIEWPORT = {"width": 1600, "height": 1000}  # a projector's 16:10
LOAD_MS = 240_000


def room(page, url: str, photo: str, dot: int, out: Path) -> None:
    """The room in presenter mode with one hotspot's card open."""
    page.goto(f"{url}/room?photo={quote(photo)}&present=1", timeout=LOAD_MS)
    dots = page.frame_locator('iframe[title*="room_hotspots"]').locator("button.dot")
    dots.first.wait_for(timeout=LOAD_MS)
    page.locator('iframe[title*="room_hotspots"]').scroll_into_view_if_needed()
    dots.nth(dot).hover()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(out / "screenshot-room.png"))


def curator(page, url: str, path: str, ready: str, out: Path) -> None:
    """A curator page once `ready` (a selector) is visible."""
    page.goto(f"{url}/{path}", timeout=LOAD_MS)
    page.locator(ready).first.wait_for(timeout=LOAD_MS)
    page.wait_for_timeout(2500)
    page.screenshot(path=str(out / f"screenshot-{path}.png"))


def main(argv: list[str] | None = None) -> int:
    """Open each page in headless Chromium and save the pictures."""
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:8501")
    parser.add_argument("--room", default=DEFAULT_ROOM, help="sample room file name")
    parser.add_argument("--dot", type=int, default=0, help="the hotspot whose card is open (0: most confident)")
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        room(page, args.url, args.room, args.dot, args.out)
        curator(page, args.url, "review", '[data-testid="stDataFrame"]', args.out)
        curator(page, args.url, "duplicates", "#pairs", args.out)
        browser.close()
    print(f"saved screenshot-room.png, screenshot-review.png, screenshot-duplicates.png in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
