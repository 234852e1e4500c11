"""First start: how long a fresh demo catalogue takes to build, the part of `./run.sh` after the install.

    python scripts/bench_first_start.py [--demo ikea-rooms] [--work DIR] [--install-seconds S] [--doc FILE]

Builds the demo catalogue from nothing into a scratch folder exactly as the app's background build does
(`build_catalog.py --demo NAME --report-progress`), timing it; `--install-seconds` adds a measured install time
(e.g. the setup step of a clean-clone `.ci/run`) to report the whole first start.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from catalog import background
from engine.settings import DEFAULT_DEMO, DEMO_CATALOGS
from training.report import write_section
from training.timing import machine

TARGET_S = 300  # install and build on a quiet machine


def time_build(demo: str, out: Path) -> dict:
    """Seconds for a from-scratch build of a demo catalogue, and what it built."""
    command, env = background.builder(["--demo", demo, "--out", str(out), "--quiet", "--report-progress"])
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True)
    seconds = time.perf_counter() - started
    status = background.status(out)
    return {"demo": demo, "seconds": round(seconds, 1), "images": status.total, "summary": status.message}


def markdown(result: dict) -> str:
    """The `first-start` section."""
    build = result["build"]
    lines = [
        "## First start (`scripts/bench_first_start.py`)",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}. A from-scratch build of the `{build['demo']}` demo "
        "catalogue, as the app's background build runs it (the app itself is up at once and shows this progress).",
        "",
        "| step | seconds | target |",
        "|---|---|---|",
        f"| build {build['images']:,} product photos | {build['seconds']:.0f} "
        f"({build['images'] / build['seconds']:.1f} images/s) | |",
    ]
    if result.get("install_seconds"):
        total = result["install_seconds"] + build["seconds"]
        lines.append(f"| install (`scripts/setup.sh`, pip cache warm) | {result['install_seconds']:.0f} | |")
        lines.append(f"| whole first start | {total:.0f} | ≤ {TARGET_S} |")
    lines += ["", f"Load average when it started: {result['load']}. Build summary: {build['summary']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", default=DEFAULT_DEMO, choices=sorted(DEMO_CATALOGS))
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument("--install-seconds", type=float, help="measured install time to add to the build")
    parser.add_argument("--doc", type=Path, help="write the `first-start` section of this Markdown file")
    args = parser.parse_args(argv)
    load = round(
        Path("/proc/loadavg").read_text().split()[0] and float(Path("/proc/loadavg").read_text().split()[0]), 2
    )
    with tempfile.TemporaryDirectory(dir=args.work) as scratch:
        result = {"build": time_build(args.demo, Path(scratch) / "index"), "load": load}
    result["install_seconds"] = args.install_seconds
    print(json.dumps(result, indent=2))
    if args.doc:
        write_section(args.doc, "first-start", markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
