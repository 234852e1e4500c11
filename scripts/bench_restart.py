"""Restart: seconds from typing `./run.sh` to a usable page, on a checkout whose demo index is already built.

    python scripts/bench_restart.py [--checkout DIR] [--runs 3] [--json OUT] [--doc docs/BENCHMARKS.md]

Each run starts the checkout's `./run.sh` (setup check, background build check, `streamlit run app.py`) on a free
port, then times, from the command's start: the server's health check answering, and a fresh headless-Chromium
page showing the shop's "Upload" choice and its file input (models and index loaded: what a shopper can use).
The server is then stopped with SIGTERM, as a user's Ctrl-C does, and its background builder must end with it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from scripts.serverlib import CHROMIUM_ARGS, ROOT, chromium_path, free_port, healthy
from training.report import publish
from training.timing import machine

TARGET_S = 10.0  # a usable page after a restart
PAGE_TIMEOUT_MS = 180_000


async def usable_page(url: str) -> None:
    """Open the app in headless Chromium and wait for the shop's file input."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = await browser.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        await page.goto(url)
        await page.locator(".st-key-source").get_by_text("Upload", exact=True).click()
        await page.get_by_test_id("stFileUploader").locator('input[type="file"]').wait_for(state="attached")
        await browser.close()


def builders(checkout: Path) -> list[int]:
    """Pids of this checkout's background catalogue builders still running."""
    found = subprocess.run(["pgrep", "-f", "scripts.build_catalog --demo"], capture_output=True, text=True)
    pids = [int(p) for p in found.stdout.split()]
    return [p for p in pids if Path(f"/proc/{p}/cwd").resolve() == checkout.resolve()]


def one_restart(checkout: Path) -> dict:
    """Start ./run.sh, time health and a usable page, stop it; whether its builder ended too."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = ["./run.sh", "--server.port", str(port), "--server.headless", "true"]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=checkout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        while not healthy(url):
            if process.poll() is not None:
                raise RuntimeError(f"./run.sh exited with {process.returncode}")
            time.sleep(0.1)
        health = time.perf_counter() - started
        asyncio.run(usable_page(url))
        usable = time.perf_counter() - started
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    time.sleep(3)
    return {"health_s": round(health, 1), "usable_s": round(usable, 1), "builders_left": len(builders(checkout))}


def markdown(result: dict) -> str:
    """The `restart` section."""
    runs = result["runs"]
    lines = [
        "## Restart (`scripts/bench_restart.py`)",
        "",
        f"Measured {result['date']} on {result['machine']}, load {result['load']:.1f} at the start: `./run.sh` on "
        "a checkout whose demo index is built, timed from the command to the health check and to a fresh headless "
        "Chromium page showing the shop's file input; then SIGTERM, as Ctrl-C.",
        "",
        "| run | health check s | usable page s | builders left after stop |",
        "|---|---|---|---|",
    ]
    lines += [f"| {i} | {r['health_s']} | {r['usable_s']} | {r['builders_left']} |" for i, r in enumerate(runs, 1)]
    lines += ["", f"Target: a usable page within {TARGET_S:.0f} s of a restart."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkout", type=Path, default=ROOT, help="a checkout with .venv and a built demo index")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("--doc", type=Path, help="write the `restart` section of this Markdown file")
    args = parser.parse_args(argv)
    if chromium_path() is None:
        raise SystemExit("no Chromium at /usr/bin/chromium (apt-get install chromium, or set LOOKALIKE_CHROMIUM)")
    load = os.getloadavg()[0]
    runs = [one_restart(args.checkout) for _ in range(args.runs)]
    result = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "load": load, "runs": runs}
    print(json.dumps(result, indent=2))
    publish(result, args.json, args.doc, "restart", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
