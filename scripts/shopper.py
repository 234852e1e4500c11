"""One shopper in headless Chromium (Playwright, async): open the app, upload a room photo, select a box, wait
for the grid. The steps and selectors of tests/app/test_browser.py, timed for scripts/bench_load.py.
"""

from __future__ import annotations

import re
import time

LIVE = '.stElementContainer[data-stale="false"]'  # elements of the current script run, not fading leftovers
STEP_TIMEOUT_MS = 180_000  # one wait (page load, canvas, grid); the caller bounds the whole run


def canvas(page, click: bool | None = None):
    """What takes the mouse on the live photo (any mode, or the click / draw one): the clickable photo
    (pages/click_photo.py) or Fabric's upper canvas."""
    mode = "" if click is None else f'[class*="-{click}"]'
    target = "canvas.upper-canvas" if click is False else "img.ll-photo, canvas.upper-canvas"  # also older servers
    return page.locator(f'{LIVE}[class*="st-key-canvas-"]{mode}').locator(target).first


BUSY_RESET_JS = "() => { window.__llBusy = performance.now(); }"
QUIET_FOR_JS = """quiet => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.dataset.testScriptState !== "notRunning") window.__llBusy = performance.now();
    return performance.now() - window.__llBusy > quiet;
}"""  # true once no Streamlit script run has been going for `quiet` ms


async def settle(page, quiet_ms: int = 750) -> None:
    """Wait until no script run has been going for `quiet_ms` (as tests/app/test_browser.py does)."""
    await page.evaluate(BUSY_RESET_JS)
    await page.wait_for_function(QUIET_FOR_JS, arg=quiet_ms, polling=100)


async def origin(page, locator) -> dict:
    """Once the app is idle, scroll the canvas into view; its bounding box in viewport pixels."""
    await settle(page)  # a click made while a fresh canvas is still loading can be lost
    await locator.scroll_into_view_if_needed()
    return await locator.bounding_box()


async def open_app(browser, url: str, session: dict):
    """A fresh context on the app with "Upload" chosen; returns its page."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1100})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = await context.new_page()
    page.on("pageerror", lambda error: session["errors"].append(f"pageerror: {error}"))
    session["step"] = "open"
    await page.goto(url)
    await page.locator(".st-key-source").get_by_text("Upload", exact=True).click()
    await page.get_by_test_id("stFileUploader").locator('input[type="file"]').wait_for(state="attached")
    return page


async def select_box(page, session: dict) -> float:
    """Click the planned point, or draw a box; returns the perf_counter time of the click (mouse up)."""
    await settle(page)  # the upload's reruns mark the canvas stale for a moment: count it once they are over
    if session["point"] and await canvas(page, click=True).count():
        (x, y), label = session["point"]  # canvas pixels, the label the grid will name
        box = await origin(page, canvas(page, click=True))
        session |= {"mode": "click", "label": label}
        started = time.perf_counter()
        await page.mouse.click(box["x"] + x, box["y"] + y)
        return started
    if not await canvas(page, click=False).count():  # boxes found, none clickable on its own: draw
        await page.locator(".st-key-mode").get_by_text("Draw a box", exact=True).click()
        await canvas(page, click=False).wait_for(state="visible")  # the run has begun: `origin` waits for its end
    box = await origin(page, canvas(page, click=False))  # a drag on a canvas still loading is lost
    session |= {"mode": "draw", "label": "your box 1"}
    sizes = ("width", "height", "width", "height")
    x0, y0, x1, y1 = (box[axis] + f * box[size] for f, axis, size in zip((0.3, 0.3, 0.7, 0.7), "xyxy", sizes))
    await page.mouse.move(x0, y0)
    await page.mouse.down()
    await page.mouse.move(x1, y1, steps=10)
    started = time.perf_counter()
    await page.mouse.up()
    return started


async def shop(page, session: dict) -> None:
    """Upload, wait for the canvas, select a box, wait for the grid; records both timings."""
    session["step"] = "upload"
    started = time.perf_counter()
    await page.get_by_test_id("stFileUploader").locator('input[type="file"]').set_input_files(session["path"])
    await canvas(page).wait_for(state="visible")
    session["upload_to_boxes_s"] = round(time.perf_counter() - started, 3)
    session["step"] = "select"
    started = await select_box(page, session)
    session["step"] = "grid"
    heading = page.locator(LIVE).get_by_role("heading", name=re.compile("^Products like")).first
    await heading.wait_for(state="visible")
    await page.locator(f'{LIVE} #results [data-tag="M1"]').first.wait_for(state="visible")
    session["click_to_grid_s"] = round(time.perf_counter() - started, 3)
    if (text := (await heading.inner_text()).strip()) != f"Products like {session['label']}":
        session["errors"].append(f"grid for {text!r}, expected {session['label']!r}")
    await server_times(page, session)


async def server_times(page, session: dict) -> None:
    """The page's own caption: ms the server spent searching and detecting (None when it is not shown)."""
    caption = page.locator(LIVE).get_by_text(re.compile(r"^Embedded and searched in \d+ ms")).first
    text = await caption.inner_text(timeout=5_000) if await caption.count() else ""
    found = re.search(r"searched in (\d+) ms · detection took (\d+) ms", text)
    session["server_search_ms"], session["server_detect_ms"] = map(int, found.groups()) if found else (None, None)


async def streamlit_exceptions(page, session: dict) -> None:
    """Record the Streamlit exception boxes on the page as one error."""
    session["step"] = "check"
    if count := await page.get_by_test_id("stException").count():
        text = (await page.get_by_test_id("stException").first.inner_text()).strip().splitlines()
        session["errors"].append(f"stException: {count} on the page, first: {text[0] if text else ''}"[:300])


async def guarded(session: dict, work) -> None:
    """Await `work`, recording an exception as the session's error at its current step."""
    try:
        await work
    except Exception as err:  # a benchmark reports every failure and goes on
        message = str(err).strip().splitlines()[0] if str(err).strip() else ""
        session["errors"].append(f"{session['step']}: {type(err).__name__}: {message}"[:300])
