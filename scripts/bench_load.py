"""Load benchmark: N concurrent shoppers in headless Chromium against one real `streamlit run app.py`.

    python scripts/bench_load.py [--sessions 10] [--index INDEX_DIR | --url http://127.0.0.1:PORT] [--rooms DIR]
                                 [--json OUT] [--doc docs/BENCHMARKS.md] [--timeout 600] [--warmup]

Each session (its own browser context, so its own Streamlit session) opens the app and picks "Upload"; then all
upload a room photo at once (one photo each, round-robin over --rooms) and each, as soon as its canvas shows,
clicks inside a box the app drew (the point is computed with the engine over --index, as the page does), or
draws a box when the photo has none to click. Timed per session: upload -> boxes (canvas shown) and
click -> grid ("Products like ..." and the M1 tile). The server's RSS (process tree) is sampled every 0.5 s.
With --url, --index must be the index that server runs on. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import numpy as np

from engine.settings import default_index_dir, sample_rooms_dir
from scripts.serverlib import (
    CHROMIUM_ARGS,
    SERVER_START_TIMEOUT,
    MemorySampler,
    chromium_path,
    healthy,
    listener_pid,
    running_server,
)
from scripts.shopper import guarded, open_app, shop, streamlit_exceptions
from training.report import write_section
from training.timing import machine

CANVAS_WIDTH = 820  # pages/shop.py
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
TARGETS = {"errors": 0, "upload_to_boxes_p95_s": 3.0, "click_to_grid_p95_s": 1.0, "server_rss_gb": 3.0}
CLEANUP_S = 45  # s of --timeout kept for closing the browser and stopping the server
BROWSER_ARGS = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]  # no other host


def click_point(service, photo: Path) -> tuple[tuple[float, float], str] | None:
    """(canvas point, grid label) inside the most confident drawn box a click there picks, or None."""
    import engine
    from engine.detection.distinct import distinct_detections
    from engine.geometry import smallest_box_at

    image = engine.load_image(photo)
    found = service.analyse(image).detections
    shown, _ = distinct_detections(found)
    boxes = [found[i].box for i in shown]
    scale = min(1.0, CANVAS_WIDTH / image.width)
    for n, (x0, y0, x1, y1) in enumerate(boxes):
        for fx, fy in ((0.5, 0.5), (0.5, 0.8), (0.2, 0.5), (0.8, 0.5), (0.5, 0.2)):
            x, y = x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)
            if smallest_box_at(boxes, x, y) == n:  # the page picks the smallest box under the pointer
                best = found[shown[n]]
                return (x * scale, y * scale), f"{best.class_name} {best.confidence:.2f}"
    return None


def plan_sessions(n: int, rooms: Path, index: Path) -> tuple[list[dict], str | None]:
    """One record per session (photo round-robin, click point or None to draw), and the detector's name."""
    photos = sorted(p for p in rooms.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    if not photos:
        raise SystemExit(f"no room photos in {rooms}")
    points, weights = {}, None
    try:
        import engine

        service = engine.load(index)
        weights = Path(service.detector.weights_name).name
        points = {p: click_point(service, p) for p in photos[:n]}
    except (OSError, ValueError) as err:
        print(f"cannot load the index {index} ({err}): every session draws its box", file=sys.stderr)
    sessions = []
    for i in range(n):
        photo = photos[i % len(photos)]
        record = {"session": i + 1, "photo": photo.name, "path": str(photo), "point": points.get(photo)}
        record |= {"mode": None, "label": None, "upload_to_boxes_s": None, "click_to_grid_s": None}
        record |= {"server_detect_ms": None, "server_search_ms": None}  # the page's caption, for comparison
        sessions.append(record | {"errors": [], "step": "not started", "done": False})
    return sessions, weights


async def drive(url: str, sessions: list[dict], seconds: float, warmup: bool) -> None:
    """One browser, one context per session: all open the app, then all upload at once and click."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path(), args=BROWSER_ARGS)
        pages: dict[int, object] = {}

        async def start(session: dict) -> None:
            pages[session["session"]] = await open_app(browser, url, session)

        async def finish(session: dict) -> None:
            page = pages.get(session["session"])
            if page is not None:
                await guarded(session, shop(page, session))
                await guarded(session, streamlit_exceptions(page, session))
                await guarded(session, page.context.close())
            session["done"] = True

        async def run() -> None:
            if warmup:  # one unrecorded shopper first: model load and first forward passes
                trial = {**sessions[0], "session": 0, "errors": []}
                await guarded(trial, start(trial))
                await finish(trial)
                print(f"warm-up: {trial['errors'] or 'no errors'}", file=sys.stderr)
            await asyncio.gather(*(guarded(s, start(s)) for s in sessions))
            await asyncio.gather(*(finish(s) for s in sessions))

        try:
            await asyncio.wait_for(run(), timeout=seconds)
        except TimeoutError:
            for session in (s for s in sessions if not s["done"]):
                session["errors"].append(f"{session['step']}: stopped by --timeout")
        await asyncio.wait_for(browser.close(), timeout=30)


def stats(values: list[float]) -> dict:
    """p50 / p95 / max of the sessions' seconds (None when no session got that far)."""
    if not values:
        return {"p50_s": None, "p95_s": None, "max_s": None, "n": 0}
    array = np.asarray(values, dtype=float)
    p50, p95 = (round(float(np.percentile(array, q)), 3) for q in (50, 95))
    return {"p50_s": p50, "p95_s": p95, "max_s": round(float(array.max()), 3), "n": len(values)}


def summarize(sessions: list[dict], sampler: MemorySampler, meta: dict) -> dict:
    """The JSON: per-session records, percentiles, error count, server memory and which targets are met."""
    rows = [{k: v for k, v in s.items() if k not in ("path", "point", "step", "done")} for s in sessions]
    upload = stats([s["upload_to_boxes_s"] for s in sessions if s["upload_to_boxes_s"] is not None])
    click = stats([s["click_to_grid_s"] for s in sessions if s["click_to_grid_s"] is not None])
    errors = sum(len(s["errors"]) for s in sessions)
    peak_mb = round(sampler.peak / 2**20) if sampler.peak else None
    met = {
        "errors": errors == TARGETS["errors"],
        "upload_to_boxes": upload["n"] == len(sessions) and upload["p95_s"] <= TARGETS["upload_to_boxes_p95_s"],
        "click_to_grid": click["n"] == len(sessions) and click["p95_s"] <= TARGETS["click_to_grid_p95_s"],
        "server_memory": None if peak_mb is None else peak_mb <= TARGETS["server_rss_gb"] * 1024,
    }
    start_mb = round(sampler.first / 2**20) if sampler.first else None
    return meta | {
        "n_sessions": len(sessions),
        "sessions": rows,
        "upload_to_boxes": upload,
        "click_to_grid": click,
        "errors": errors,
        "server_rss_start_mb": start_mb,
        "server_peak_rss_mb": peak_mb,
        "targets": TARGETS,
        "met": met,
    }


def _seconds(value) -> str:
    """'1.23 s', or a dash when missing."""
    return "–" if value is None else f"{value:.2f} s"


def _ms(value) -> str:
    """'120 ms', or a dash when missing."""
    return "–" if value is None else f"{value} ms"


def _yes(value) -> str:
    """Whether a target is met, for the table."""
    return {True: "yes", False: "**no**", None: "n/a"}[value]


def markdown(results: dict) -> str:
    """The BENCHMARKS.md section."""
    up, click, met = results["upload_to_boxes"], results["click_to_grid"], results["met"]
    peak = "unknown" if results["server_peak_rss_mb"] is None else f"{results['server_peak_rss_mb']:,} MB"
    rows = [
        f"| upload → boxes | {_seconds(up['p50_s'])} | {_seconds(up['p95_s'])} | {_seconds(up['max_s'])} "
        f"| p95 ≤ {TARGETS['upload_to_boxes_p95_s']:g} s | {_yes(met['upload_to_boxes'])} |",
        f"| click → grid | {_seconds(click['p50_s'])} | {_seconds(click['p95_s'])} | {_seconds(click['max_s'])} "
        f"| p95 ≤ {TARGETS['click_to_grid_p95_s']:g} s | {_yes(met['click_to_grid'])} |",
        f"| errors | {results['errors']} | | | 0 | {_yes(met['errors'])} |",
        f"| server peak RSS (process tree) | {peak} | | | ≤ {TARGETS['server_rss_gb']:g} GB "
        f"| {_yes(met['server_memory'])} |",
    ]
    per_session = [
        f"| {s['session']} | {s['photo'].split('__')[0]} | {s['mode'] or '–'} | {_seconds(s['upload_to_boxes_s'])} "
        f"| {_seconds(s['click_to_grid_s'])} | {_ms(s['server_detect_ms'])} / {_ms(s['server_search_ms'])} "
        f"| {'; '.join(s['errors']).replace('|', '/') or '–'} |"
        for s in results["sessions"]
    ]
    return f"""## Load: concurrent shoppers (`scripts/bench_load.py`)

Measured {results["date"]} on {results["machine"]}: {results["n_sessions"]} concurrent headless-Chromium sessions
against one `streamlit run app.py` over `{results["index"]}` (detector `{results["weights"]}`), warm-up
{"on" if results["warmup"] else "off"}. All sessions upload a different room photo at once, then click a drawn box
(or draw one when none can be clicked) as soon as their canvas shows. Server RSS sampled every 0.5 s; "server:
detect / search" is the page's own caption (the server's compute inside those waits).

| measure | p50 | p95 | max | target | met |
|---|---|---|---|---|---|
{chr(10).join(rows)}

| session | photo | selection | upload → boxes | click → grid | server: detect / search | errors |
|---|---|---|---|---|---|---|
{chr(10).join(per_session)}
"""


def local_url(url: str) -> str:
    """The URL with localhost spelled 127.0.0.1; anything not on this machine is refused."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost") or not parts.port:
        raise SystemExit(f"--url must be http://127.0.0.1:PORT, not {url}")
    return f"http://127.0.0.1:{parts.port}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=10, help="concurrent browser sessions")
    parser.add_argument("--index", type=Path, default=default_index_dir())
    parser.add_argument("--url", help="a running server on 127.0.0.1 instead of starting one over --index")
    parser.add_argument("--rooms", type=Path, default=sample_rooms_dir(), help="room photos, one per session")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--doc", type=Path, help="write the `load` section of this Markdown file")
    parser.add_argument("--timeout", type=float, default=600, help="stop everything after this many seconds")
    parser.add_argument("--warmup", action="store_true", help="one unrecorded session before the measured ones")
    args = parser.parse_args(argv)
    if args.sessions < 1:
        parser.error("--sessions must be at least 1")
    args.url = local_url(args.url) if args.url else None
    return args


def measure(args: argparse.Namespace, url: str, pid: int | None, sessions: list[dict], deadline: float):
    """Drive the sessions while sampling the server's memory; returns the sampler."""
    sampler = MemorySampler(pid)
    sampler.start()
    try:
        asyncio.run(drive(url, sessions, max(1.0, deadline - time.monotonic() - CLEANUP_S), args.warmup))
    finally:
        sampler.halt.set()
        sampler.join()
    return sampler


def serve_and_measure(args: argparse.Namespace, sessions: list[dict], deadline: float) -> MemorySampler:
    """Measure against --url, or against a server started over --index (stopped afterwards)."""
    if args.url:
        if not healthy(args.url):
            raise RuntimeError(f"no Streamlit answers at {args.url}")
        return measure(args, args.url, listener_pid(args.url), sessions, deadline)
    start_timeout = min(SERVER_START_TIMEOUT, max(5.0, deadline - time.monotonic() - CLEANUP_S))
    with tempfile.TemporaryDirectory() as logs, running_server(args.index, Path(logs), start_timeout) as server:
        return measure(args, server.url, server.pid, sessions, deadline)


def summary_line(results: dict) -> str:
    """The last line printed."""
    up, click, peak = results["upload_to_boxes"], results["click_to_grid"], results["server_peak_rss_mb"]
    met = results["met"].values()
    verdict = "MISSED" if False in met else "met, memory unknown" if None in met else "met"
    return (
        f"load: {results['n_sessions']} sessions, {results['errors']} errors, upload->boxes p50 {up['p50_s']} s "
        f"p95 {up['p95_s']} s, click->grid p50 {click['p50_s']} s p95 {click['p95_s']} s, "
        f"server peak {peak} MB, targets {verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    """Plan, start (or find) the server, drive the sessions, print and write the results."""
    args = parse_args(argv)
    deadline = time.monotonic() + args.timeout
    if chromium_path() is None:
        raise SystemExit("no Chromium at /usr/bin/chromium (apt-get install chromium, or set LOOKALIKE_CHROMIUM)")
    sessions, weights = plan_sessions(args.sessions, args.rooms, args.index)
    meta = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "index": args.index.name, "weights": weights}
    try:
        sampler = serve_and_measure(args, sessions, deadline)
    except RuntimeError as err:
        print(err, file=sys.stderr)
        print(f"load: no measurement, {str(err).splitlines()[0]}")
        return 2
    results = summarize(sessions, sampler, meta | {"warmup": args.warmup})
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if args.doc:
        write_section(args.doc, "load", markdown(results))
    print(summary_line(results))
    return 0 if results["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
