"""One shopper's real wait in headless Chromium, this checkout against a baseline checkout, in the same run.

    python scripts/bench_click.py --index INDEX_DIR [--base /tmp/base [--base-index DIR]] [--rooms DIR] \
        [--photos 10] [--clicks 3] [--json OUT] [--doc docs/BENCHMARKS.md]

Starts `streamlit run app.py` of this checkout (and of --base, another checkout such as a `git worktree` of an
older commit) over the same index (or `--base-index`, a copy whose manifest an older checkout can read), and
drives one headless-Chromium shopper on each, photo by photo in turn: upload a room photo, then click boxes the
app drew (a click where an earlier one was cycles to the larger box under it).
Timed in the page (performance.now): upload -> boxes painted (the photo drawn on the canvas, the caption naming
its objects) and click (pointer released) -> grid painted (its heading, every tile's image loaded, one frame
later). Per interaction the websocket frames give the bytes the server sent, the script runs and the server's
time (the browser's first message to the last run's end). Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from engine.settings import sample_rooms_dir
from scripts import click_probe
from scripts.bench_load import BROWSER_ARGS, CANVAS_WIDTH, PHOTO_SUFFIXES
from scripts.serverlib import ROOT, chromium_path, running_server
from scripts.shopper import canvas, origin, settle
from training.report import write_section
from training.timing import machine

TARGETS = {"click_to_grid_p95_ms": 400, "upload_to_boxes_p95_ms": 1000}
QUIET_LOAD = 2.0  # 1-minute load average below which the 2-core machine counts as quiet (the server and one browser)
WAIT_MS = 60_000  # one interaction; a miss is recorded and the shopper goes on
START_MS = 240_000  # the first page of a fresh server loads the models, on a busy 2-core machine


DIAG_JS = """() => {
  const hosts = [...document.querySelectorAll('[class*="st-key-canvas-"]')];
  const photos = hosts.map(h => h.className.split(' ')[2] + ' stale=' + h.dataset.stale + ' '
    + [...h.querySelectorAll('*')].filter(e => e.shadowRoot).map(e => e.shadowRoot.innerHTML.slice(0, 300)).join(' '));
  const errors = [...document.querySelectorAll('[data-testid="stException"]')].map(e => e.innerText);
  return [window.__ll.want, photos, errors];
}"""


def plan_clicks(service, photo: Path, clicks: int) -> dict:
    """The photo's objects shown and up to `clicks` canvas points, each changing the selection, with its label."""
    import engine
    from engine.detection.distinct import distinct_detections
    from engine.geometry import box_at_click, boxes_at, smallest_box_at

    image = engine.load_image(photo)
    found = service.analyse(image).detections
    shown, _ = distinct_detections(found)
    boxes = [found[i].box for i in shown]
    scale = min(1.0, CANVAS_WIDTH / image.width)
    points = []
    for n, (x0, y0, x1, y1) in enumerate(boxes):  # a point inside each box where the smallest box is that one
        for fx, fy in ((0.5, 0.5), (0.5, 0.8), (0.2, 0.5), (0.8, 0.5), (0.5, 0.2)):
            x, y = x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)
            if smallest_box_at(boxes, x, y) == n:
                points.append((x, y))
                if len(boxes_at(boxes, x, y)) > 1:
                    points.append((x, y))  # click again there: the larger box under the same spot
                break
    labels = [f"{found[i].class_name} {found[i].confidence:.2f}" for i in shown]
    plan, current = [], None
    for x, y in points:
        picked = box_at_click(boxes, x, y, current)
        if picked is None or picked == current or len(plan) == clicks:
            continue
        if current is None or labels[picked] != labels[current]:  # the grid must show a change
            plan.append({"point": (x * scale, y * scale), "label": labels[picked]})
            current = picked
    return {"photo": photo.name, "path": str(photo), "n_shown": len(boxes), "clicks": plan}


async def upload(page, socket: click_probe.SocketLog, room: dict, errors: list) -> dict | None:
    """Upload the room photo; the upload -> boxes record, or None when the boxes never showed."""
    await settle(page)
    caption = f"{room['n_shown']} object"
    await click_probe.arm(page, "boxes", caption)
    start = socket.mark()
    await page.get_by_test_id("stFileUploader").locator('input[type="file"]').set_input_files(room["path"])
    try:
        painted, _ = await click_probe.painted_ms(page, WAIT_MS, since_up=False)
    except Exception as err:  # a benchmark records the miss and goes on
        diag = await page.evaluate(DIAG_JS)
        errors.append(f"{room['photo']}: boxes: {type(err).__name__} {diag}")
        return None
    await settle(page)
    return {"photo": room["photo"], "painted_ms": painted} | socket.since(start)


async def click(page, socket: click_probe.SocketLog, room: dict, step: dict, errors: list) -> dict | None:
    """Click one planned point; the click -> grid record, or None when that grid never showed."""
    await settle(page)
    try:
        box = await origin(page, canvas(page, click=True))
    except Exception as err:
        diag = await page.evaluate(DIAG_JS)
        errors.append(f"{room['photo']}: no photo to click: {type(err).__name__} {diag}")
        return None
    await click_probe.arm(page, "grid", f"Products like {step['label']}")
    start = socket.mark()
    await page.mouse.click(box["x"] + step["point"][0], box["y"] + step["point"][1])
    try:
        painted, dom = await click_probe.painted_ms(page, WAIT_MS)
    except Exception as err:
        errors.append(f"{room['photo']}: grid for {step['label']}: {type(err).__name__}")
        return None
    await settle(page)
    record = {"photo": room["photo"], "label": step["label"], "painted_ms": painted, "html_ms": dom}
    return record | socket.since(start)


async def open_shopper(browser, url: str, errors: list):
    """A fresh context on the shop page with "Upload" chosen; (page, its websocket log)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1100})
    context.set_default_timeout(WAIT_MS)
    page = await context.new_page()
    socket = click_probe.SocketLog(page)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    await page.goto(url)
    await page.locator(".st-key-source").get_by_text("Upload", exact=True).click(timeout=START_MS)
    await page.get_by_test_id("stFileUploader").locator('input[type="file"]').wait_for(state="attached")
    await click_probe.install(page)
    return page, socket


async def drive(urls: dict[str, str], rooms: list[dict]) -> dict:
    """One shopper per server; photo by photo, each server in turn: upload, then the planned clicks."""
    from playwright.async_api import async_playwright

    results = {name: {"uploads": [], "clicks": [], "errors": []} for name in urls}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path(), args=BROWSER_ARGS)
        shoppers = {name: await open_shopper(browser, url, results[name]["errors"]) for name, url in urls.items()}
        for room in rooms:
            for name, (page, socket) in shoppers.items():
                record, errors = results[name], results[name]["errors"]
                uploaded = await upload(page, socket, room, errors)
                if uploaded is None:
                    continue
                record["uploads"].append(uploaded | {"load": os.getloadavg()[0]})
                for step in room["clicks"]:
                    clicked = await click(page, socket, room, step, errors)
                    if clicked is not None:
                        record["clicks"].append(clicked | {"load": os.getloadavg()[0]})
            print(f"{room['photo'][:40]}: done, load {os.getloadavg()[0]:.2f}", file=sys.stderr)
        await browser.close()
    return results


def summary(records: list[dict]) -> dict:
    """Percentiles of one interaction's painted ms, server ms and bytes, and the mean bytes per element type."""
    if not records:
        return {"n": 0}

    def pct(key: str) -> dict:
        values = np.asarray([r[key] for r in records if r.get(key) is not None], dtype=float)
        if not len(values):
            return {}
        return {q: round(float(np.percentile(values, int(q[1:]))), 1) for q in ("p50", "p95")} | {
            "max": round(float(values.max()), 1)
        }

    elements: dict[str, float] = {}
    for record in records:
        for element, size in record["bytes_by_element"].items():
            elements[element] = elements.get(element, 0) + size / len(records)
    return {
        "n": len(records),
        "painted_ms": pct("painted_ms"),
        "html_ms": pct("html_ms"),
        "server_ms": pct("server_ms"),
        "bytes_in": pct("bytes_in"),
        "runs": pct("runs"),
        "mean_bytes_by_element": {k: round(v) for k, v in sorted(elements.items(), key=lambda kv: -kv[1])},
        "load": pct("load"),
    }


def _kb(value) -> str:
    """Bytes as kB."""
    return "–" if value is None else f"{value / 1000:,.0f} kB"


def _row(name: str, what: str, s: dict) -> str:
    """One table row: painted and server percentiles, bytes, runs, load."""
    if not s["n"]:
        return f"| {name} | {what} | 0 | – | – | – | – | – | – |"
    painted, server, sent, runs, load = (s[k] for k in ("painted_ms", "server_ms", "bytes_in", "runs", "load"))
    elements = ", ".join(f"{k} {_kb(v)}" for k, v in list(s["mean_bytes_by_element"].items())[:3])
    return (
        f"| {name} | {what} | {s['n']} | {painted['p50']:.0f} / {painted['p95']:.0f} / {painted['max']:.0f} ms "
        f"| {server.get('p50', 0):.0f} / {server.get('p95', 0):.0f} ms | {_kb(sent['p50'])} ({elements}) "
        f"| {runs['p50']:.0f} | {load['p50']:.1f} (max {load['max']:.1f}) |"
    )


def markdown(results: dict) -> str:
    """The BENCHMARKS.md section."""
    rows = []
    for name, record in results["checkouts"].items():
        rows.append(_row(name, "upload → boxes painted", record["upload"]))
        rows.append(_row(name, "click → grid painted", record["click"]))
    errors = "; ".join(f"{n}: {len(r['errors'])}" for n, r in results["checkouts"].items())
    peak = max(r[k]["load"]["max"] for r in results["checkouts"].values() for k in ("upload", "click") if r[k]["n"])
    quiet = peak < QUIET_LOAD
    machine_state = "a quiet machine" if quiet else "a machine shared with other jobs (**not a quiet machine**)"
    return f"""## One shopper's wait in a real browser (`scripts/bench_click.py`)

Measured {results["date"]} on {results["machine"]}, {machine_state}: load average at most {peak:.1f}, beside
each row. One headless Chromium shopper per checkout, both servers up at once over
the same index (`{results["index"]}`, {results["n_products"]} products, no gallery views), photo by photo in turn:
{results["n_photos"]} real ikea-rooms photos, each uploaded then clicked up to {results["clicks_per_photo"]} times
(a click changes the selection; some click the same spot again to cycle to the larger box). Times are the page's
own clock: from the file input (upload) or the pointer's release (click) to the frame after the boxes' photo is
drawn on the canvas / every grid tile's image is loaded. "Server" is from the browser's first websocket message to
the last script run's end, seen from the browser; "sent" is the websocket bytes the server sent per interaction
(p50) with the three largest kinds of message. Errors: {errors}.

| checkout | interaction | n | painted p50 / p95 / max | server p50 / p95 | sent p50 (largest kinds) | runs | load avg |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Targets: click → grid painted p95 ≤ {TARGETS["click_to_grid_p95_ms"]} ms, upload → boxes painted p95
≤ {TARGETS["upload_to_boxes_p95_ms"]} ms.
"""


def rooms_to_plan(index: Path, rooms: Path, n_photos: int, clicks: int) -> tuple[list[dict], int]:
    """The first `n_photos` room photos with boxes to click, their click plans, and the index's product count."""
    import engine

    service = engine.load(index)
    photos = sorted(p for p in rooms.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    plans = []
    for photo in photos:
        plan = plan_clicks(service, photo, clicks)
        if plan["clicks"]:
            plans.append(plan)
        if len(plans) == n_photos:
            break
    return plans, int(service.index.manifest["n_products"])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True, help="the index both servers search")
    parser.add_argument("--base", type=Path, help="a baseline checkout (e.g. `git worktree add /tmp/base COMMIT`)")
    parser.add_argument(
        "--base-index", type=Path, help="the index the baseline searches (default --index): a copy it can read"
    )
    parser.add_argument("--rooms", type=Path, default=sample_rooms_dir(), help="room photos")
    parser.add_argument("--photos", type=int, default=10)
    parser.add_argument("--clicks", type=int, default=3, help="clicks per photo")
    parser.add_argument("--json", type=Path, help="also write every record here")
    parser.add_argument("--doc", type=Path, help="write the `click-wait` section of this Markdown file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Plan the clicks, start both servers, drive one shopper on each, print and write the numbers."""
    args = parse_args(argv)
    if chromium_path() is None:
        raise SystemExit("no Chromium at /usr/bin/chromium (apt-get install chromium, or set LOOKALIKE_CHROMIUM)")
    args.index = args.index.resolve()  # the baseline server runs in its own folder
    rooms, n_products = rooms_to_plan(args.index, args.rooms, args.photos, args.clicks)
    base_index = (args.base_index or args.index).resolve()
    checkouts = {"this checkout": (ROOT, args.index)}
    checkouts |= {f"baseline ({args.base.name})": (args.base, base_index)} if args.base else {}
    with tempfile.TemporaryDirectory() as logs, ExitStack() as stack:
        urls = {}
        for i, (name, (root, index)) in enumerate(checkouts.items()):
            urls[name] = stack.enter_context(running_server(index, Path(logs), root=root, name=f"s{i}")).url
        raw = asyncio.run(drive(urls, rooms))
    results = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "index": args.index.name}
    results |= {"n_products": n_products, "n_photos": len(rooms), "clicks_per_photo": args.clicks}
    results["checkouts"] = {
        name: {"upload": summary(r["uploads"]), "click": summary(r["clicks"]), "errors": r["errors"]}
        for name, r in raw.items()
    }
    print(json.dumps(results["checkouts"], indent=2))
    if args.json:
        args.json.write_text(json.dumps(results | {"raw": raw}, indent=2))
    if args.doc:
        write_section(args.doc, "click-wait", markdown(results))
    for name, record in results["checkouts"].items():
        click, up = record["click"], record["upload"]
        print(
            f"{name}: click->grid painted p95 {click.get('painted_ms', {}).get('p95')} ms (n {click['n']}), "
            f"upload->boxes painted p95 {up.get('painted_ms', {}).get('p95')} ms, errors {len(record['errors'])}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
