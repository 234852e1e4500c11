"""The server's own latency under N concurrent shoppers, with no browser: each shopper speaks Streamlit's websocket
protocol, sending the messages headless Chromium sends (captured from it: a widget's new value; a click on the
shop page's photo as the photo component's one-shot trigger, with the fragment it belongs to).

    python scripts/bench_protocol.py --index INDEX_DIR [--sessions 10] [--clicks 3] [--json OUT] [--doc FILE]

Starts `streamlit run app.py` over the index. All shoppers open the shop page at once (its default sample room is
detected for each), then pick a different sample room each (photo -> boxes: one detector pass), then click boxes
the app drew (click -> grid: a fragment run). Timed per message: sent -> the run's `script_finished` received,
i.e. the server's work and its queueing, nothing of a browser's. A click counts as an error unless its run shows
the expected "Products like ..." heading and no exception. The server's RSS (process tree) is sampled every 0.5 s;
the client's own CPU time is reported beside the server's. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from engine.settings import sample_rooms_dir
from scripts.bench_click import plan_clicks
from scripts.bench_load import stats
from scripts.serverlib import MemorySampler, running_server
from training.report import write_section
from training.timing import machine

TARGETS = {"errors": 0, "click_to_grid_p95_s": 1.0, "server_rss_gb": 3.0}
TRIGGER = "$$STREAMLIT_INTERNAL_KEY_{}__events"  # where a components-v2 element's trigger values go


class Shopper:
    """One Streamlit session over a websocket: send a rerun with some widget values, read until the run ends."""

    def __init__(self, url: str) -> None:
        self.url, self.socket, self.widgets = url, None, {}  # widget key suffix -> (id, fragment id)
        self.page_hash = ""  # the page the elements came from: sent back, as the browser does
        self.timings: dict[str, list[float]] = {"open": [], "photo": [], "click": []}
        self.errors: list[str] = []

    async def connect(self) -> None:
        """Open the websocket as the browser does (subprotocol "streamlit")."""
        import websockets

        address = self.url.replace("http://", "ws://") + "/_stcore/stream"
        self.socket = await websockets.connect(address, subprotocols=["streamlit"], max_size=None)

    async def run(self, widgets=(), fragment_id: str = "") -> dict:
        """Send one rerun; returns its seconds, the headings and exceptions it drew and the bytes received."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        message = BackMsg()
        request = message.rerun_script
        request.fragment_id, request.page_script_hash = fragment_id, self.page_hash
        request.context_info.url, request.context_info.timezone = self.url + "/", "UTC"
        request.widget_states.widgets.extend(widgets)
        started = time.perf_counter()
        await self.socket.send(message.SerializeToString())
        return await self._until_finished(started)

    async def _until_finished(self, started: float) -> dict:
        """Read ForwardMsgs until a run finishes other than early-for-a-rerun; note widgets, headings, errors."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        seen = {"headings": [], "exceptions": [], "bytes": 0}
        while True:
            data = await self.socket.recv()
            seen["bytes"] += len(data)
            message = ForwardMsg.FromString(data)
            kind = message.WhichOneof("type")
            if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                self._note(message.delta.new_element, message.delta.fragment_id, seen)
                self.page_hash = message.metadata.active_script_hash or self.page_hash
            elif kind == "script_finished" and message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return seen | {"seconds": time.perf_counter() - started}

    def _note(self, element, fragment_id: str, seen: dict) -> None:
        """Remember widget ids by their key; collect headings and exception messages."""
        kind = element.WhichOneof("type")
        if kind == "heading":
            seen["headings"].append(element.heading.body)
        elif kind == "exception":
            seen["exceptions"].append(f"{element.exception.type}: {element.exception.message}"[:200])
        elif kind and hasattr(getattr(element, kind), "id"):
            widget_id = getattr(element, kind).id
            self.widgets[widget_id.split("-", 2)[-1]] = (widget_id, fragment_id)

    def widget(self, key_start: str, contains: str = "") -> tuple[str, str] | None:
        """(id, fragment id) of the newest widget whose key starts with `key_start` (and contains `contains`)."""
        found = [v for k, v in self.widgets.items() if k.startswith(key_start) and contains in k]
        return found[-1] if found else None


async def shop(shopper: Shopper, sample_title: str, plan: dict, start: asyncio.Event) -> None:
    """Open the page, wait for the start, pick the sample room, click the planned points."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    await shopper.connect()
    opened = await shopper.run()
    shopper.timings["open"].append(opened["seconds"])
    await start.wait()
    sample = shopper.widget("sample")
    photo = await shopper.run([WidgetState(id=sample[0], string_value=sample_title)])
    shopper.timings["photo"].append(photo["seconds"])
    shopper.errors += photo["exceptions"]
    for step in plan["clicks"]:
        photo_widget = shopper.widget("canvas-", "-True")  # the photo in "Click an object" mode
        if photo_widget is None:
            shopper.errors.append(f"{plan['photo']}: no clickable photo")
            return
        x, y = step["point"]
        trigger = json.dumps([{"event": "click", "value": {"x": x, "y": y}}])
        state = WidgetState(id=TRIGGER.format(photo_widget[0]), json_trigger_value=trigger)
        clicked = await shopper.run([state], fragment_id=photo_widget[1])
        shopper.timings["click"].append(clicked["seconds"])
        shopper.errors += clicked["exceptions"]
        if f"Products like {step['label']}" not in clicked["headings"]:
            shopper.errors.append(f"{plan['photo']}: no grid for {step['label']} ({clicked['headings']})")
    await shopper.socket.close()


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process tree (psutil), 0 when unknown."""
    try:
        import psutil

        root = psutil.Process(pid)
        return sum(sum(p.cpu_times()[:2]) for p in [root, *root.children(recursive=True)])
    except Exception:  # no psutil or the process is gone: unknown
        return 0.0


async def drive(url: str, plans: list[dict], n: int) -> list[Shopper]:
    """N shoppers: all open the page, then all start together."""
    from pages.shared import sample_title

    shoppers, start = [Shopper(url) for _ in range(n)], asyncio.Event()
    tasks = [
        asyncio.create_task(shop(s, sample_title(plans[i % len(plans)]["photo"]), plans[i % len(plans)], start))
        for i, s in enumerate(shoppers)
    ]
    while not all(s.timings["open"] or t.done() for s, t in zip(shoppers, tasks)):
        await asyncio.sleep(0.2)
    start.set()
    for shopper, task in zip(shoppers, tasks):
        try:
            await task
        except Exception as err:  # a benchmark reports every failure and goes on
            shopper.errors.append(f"{type(err).__name__}: {err}"[:200])
    return shoppers


def markdown(results: dict) -> str:
    """The BENCHMARKS.md section."""
    rows = []
    for name, label in (("open", "open the page"), ("photo", "photo → boxes"), ("click", "click → grid")):
        t = results[name]
        rows.append(f"| {label} (server) | {t['n']} | {t['p50_s']} s | {t['p95_s']} s | {t['max_s']} s |")
    return f"""## Ten shoppers, server side (`scripts/bench_protocol.py`)

Measured {results["date"]} on {results["machine"]}, **not a quiet machine**: other engineers' jobs ran beside it
(load average {results["load_start"]:.1f} at the start, {results["load_end"]:.1f} at the end, on 2 cores).
{results["n_sessions"]} concurrent shoppers against one `streamlit run app.py` over `{results["index"]}`
({results["n_products"]} products, no gallery views). No browser: each shopper is a websocket client speaking
Streamlit's protocol (the messages Chromium sends, captured from it), so the times are the server's alone, from a
message sent to its run's end: all open the shop page (its default sample room detected for each), then each picks a
different sample room and clicks up to {results["clicks"]} of its boxes (each click checked: the grid it names).
The clients used {results["client_cpu_s"]:.1f} CPU s in all, the server {results["server_cpu_s"]:.1f} CPU s.

| interaction | n | p50 | p95 | max |
|---|---|---|---|---|
{chr(10).join(rows)}

Errors: {results["errors"]} (target 0). Server peak RSS (process tree): {results["server_peak_rss_mb"]:,} MB
(target ≤ 3 GB; {results["server_rss_start_mb"]:,} MB at the start). Targets: click → grid p95 ≤ 1 s server side.
{("First errors: " + "; ".join(results["error_list"][:3]).replace("|", "/")) if results["error_list"] else ""}
"""


def main(argv: list[str] | None = None) -> int:
    """Plan the clicks, start the server, run the shoppers, print and write the numbers."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--clicks", type=int, default=3, help="clicks per shopper")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--doc", type=Path, help="write the `load-protocol` section of this Markdown file")
    args = parser.parse_args(argv)
    import engine

    service = engine.load(args.index.resolve())
    photos = sorted(sample_rooms_dir().glob("*.jpg"))[1:]  # not the page's default sample: a photo change each
    plans = [
        p for p in (plan_clicks(service, photo, args.clicks) for photo in photos[: args.sessions + 5]) if p["clicks"]
    ]
    n_products = int(service.index.manifest["n_products"])
    del service
    load_start, client_start = os.getloadavg()[0], resource.getrusage(resource.RUSAGE_SELF)
    with tempfile.TemporaryDirectory() as logs, running_server(args.index.resolve(), Path(logs)) as server:
        server_start, sampler = cpu_seconds(server.pid), MemorySampler(server.pid)
        sampler.start()
        try:
            shoppers = asyncio.run(drive(server.url, plans, args.sessions))
        finally:
            sampler.halt.set()
            sampler.join()
        server_cpu = cpu_seconds(server.pid) - server_start
    client = resource.getrusage(resource.RUSAGE_SELF)
    errors = [e for s in shoppers for e in s.errors]
    results = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "index": args.index.name}
    results |= {"n_products": n_products, "n_sessions": args.sessions, "clicks": args.clicks}
    results |= {name: stats([t for s in shoppers for t in s.timings[name]]) for name in ("open", "photo", "click")}
    results |= {"errors": len(errors), "error_list": errors, "load_start": load_start, "load_end": os.getloadavg()[0]}
    results |= {"server_peak_rss_mb": round(sampler.peak / 2**20), "server_rss_start_mb": round(sampler.first / 2**20)}
    results |= {"server_cpu_s": server_cpu}
    results["client_cpu_s"] = client.ru_utime + client.ru_stime - client_start.ru_utime - client_start.ru_stime
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if args.doc:
        write_section(args.doc, "load-protocol", markdown(results))
    click = results["click"]
    print(
        f"protocol: {args.sessions} shoppers, {len(errors)} errors, click->grid p95 {click['p95_s']} s (server), "
        f"peak {results['server_peak_rss_mb']} MB"
    )
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
