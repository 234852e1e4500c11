"""First start: how soon a fresh demo catalogue is searchable and how long its build takes (after the install).

    python scripts/bench_first_start.py [--demo ikea-rooms] [--photos N] [--baseline CHECKOUT] [--work DIR] \
        [--install-seconds S] [--doc FILE]

Builds the demo catalogue (or its first --photos products) from nothing into a scratch folder exactly as the app's
background build does (`build_catalog.py --demo NAME --report-progress`), timing when the first searchable version
goes live and when the build ends. `--baseline` builds the same photos the same way with another checkout first
(e.g. `git worktree add /tmp/base <commit>`), in the same run. The crop network's plain pass (EfficientNet-Lite0
once over the same photos at 224 px, batch 16, decoding included) is timed too: a build's cost in plain passes is
its seconds over that. `--install-seconds` adds a measured install time to report the whole first start.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from catalog import background
from engine.settings import DEFAULT_DEMO, DEMO_CATALOGS, PROJECT_ROOT, demo_catalog_dir
from training.report import write_section
from training.timing import machine

TARGET_S = 300  # install and build on a quiet machine
TARGET_RATE = 15.0  # photos per second for a full build
TARGET_PASSES = 4.0  # a default build costs at most this many plain passes of its crop network
PLAIN_BATCH = 16


def load_average() -> float:
    """The 1-minute load average."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def time_build(checkout: Path, build_args: list[str], out: Path) -> dict:
    """Run one checkout's builder as the app does; seconds to the first live version and to the end."""
    command = [sys.executable, "-m", "scripts.build_catalog", *build_args, "--out", str(out), "--quiet"]
    env = os.environ | {"PYTHONPATH": str(checkout)}
    load, started = load_average(), time.perf_counter()
    process = subprocess.Popen([*command, "--report-progress"], cwd=checkout, env=env, stdout=subprocess.DEVNULL)
    first = None
    while process.poll() is None:
        if first is None and (out / "CURRENT").is_file():
            first = time.perf_counter() - started
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    if process.returncode:
        raise RuntimeError(f"the build of {checkout} failed: {background.status(out).message}")
    status = background.status(out)
    return {
        "checkout": str(checkout),
        "searchable_s": round(first if first is not None else seconds, 1),
        "seconds": round(seconds, 1),
        "images": status.total,
        "summary": status.message,
        "load": [load, load_average()],
    }


def plain_pass_seconds(images: list[Path]) -> float:
    """Seconds for the default crop network once over the photos: decode, letterbox to its size, batches of 16."""
    import torch

    from engine.geometry import apply_letterbox, plan_letterbox
    from engine.images import load_image
    from engine.pretrained import DEFAULT_NETWORK, crop_network, pretrained_net

    contract, model = pretrained_net(DEFAULT_NETWORK).contract, crop_network(DEFAULT_NETWORK)
    started = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(images), PLAIN_BATCH):
            photos = [load_image(path) for path in images[i : i + PLAIN_BATCH]]
            plans = [plan_letterbox(p.size, contract.size, 1, square=True) for p in photos]
            batch = np.stack([apply_letterbox(p, plan) for p, plan in zip(photos, plans)])  # (B, S, S, 3) uint8
            x = contract.normalise(torch.from_numpy(batch).permute(0, 3, 1, 2).float() / 255)
            model.forward_head(model.forward_features(x), pre_logits=True)  # (B, 1280)
    return time.perf_counter() - started


def subset(demo: str, photos: int | None, scratch: Path) -> tuple[list[str], list[Path]]:
    """(build arguments for the demo or its first `photos` products, their photo files)."""
    folder = demo_catalog_dir(demo)
    table = pd.read_csv(folder / "products.csv", dtype=str, keep_default_na=False)
    if photos is None:
        return ["--demo", demo], [folder / image for image in table["image"]]
    csv = scratch / "products.csv"
    table.head(photos).to_csv(csv, index=False)
    return ["--images", str(folder), "--products", str(csv)], [folder / image for image in table["image"].head(photos)]


def markdown(result: dict) -> str:
    """The `first-start` section."""
    builds, plain = result["builds"], result.get("plain_seconds")
    lines = [
        "## First start (`scripts/bench_first_start.py`)",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}. A from-scratch build of {result['what']}, as the "
        "app's background build runs it (the app itself is up at once and shows this progress); the baseline "
        "checkout built the same photos the same way in the same run, just before.",
        "",
        "| build | photos | searchable after s | whole build s | photos/s | plain passes | load at start, end |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, build in builds.items():
        passes = f"{build['seconds'] / plain:.1f}" if plain else "-"
        rate = build["images"] / build["seconds"]
        lines.append(
            f"| {name} | {build['images']:,} | {build['searchable_s']:.0f} | {build['seconds']:.0f} | {rate:.1f} | "
            f"{passes} | {build['load'][0]:.1f}, {build['load'][1]:.1f} |"
        )
    if plain:
        lines += ["", f"Plain pass of the crop network over the same photos: {plain:.1f} s."]
    lines += [f"Targets: ≥ {TARGET_RATE:.0f} photos/s, ≤ {TARGET_PASSES:.0f} plain passes (quiet machine)."]
    if result.get("install_seconds"):
        ours = builds["this checkout"]
        total = result["install_seconds"] + ours["searchable_s"]
        lines.append(
            f"Install (`scripts/setup.sh`, pip cache warm) {result['install_seconds']:.0f} s; whole first start to "
            f"searching {total:.0f} s (target ≤ {TARGET_S})."
        )
    lines += [""] + [f"- {name}: {build['summary']}" for name, build in builds.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", default=DEFAULT_DEMO, choices=sorted(DEMO_CATALOGS))
    parser.add_argument("--photos", type=int, help="only the first N products (default: the whole demo)")
    parser.add_argument("--baseline", type=Path, help="another checkout to build the same way first (e.g. main)")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument("--install-seconds", type=float, help="measured install time to add to the build")
    parser.add_argument("--doc", type=Path, help="write the `first-start` section of this Markdown file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.work) as scratch:
        build_args, photos = subset(args.demo, args.photos, Path(scratch))
        builds = {}
        if args.baseline:
            builds["baseline"] = time_build(args.baseline.resolve(), build_args, Path(scratch) / "baseline")
        builds["this checkout"] = time_build(PROJECT_ROOT, build_args, Path(scratch) / "index")
        plain = plain_pass_seconds(photos)
    what = f"the first {args.photos:,} `{args.demo}` photos" if args.photos else f"the `{args.demo}` demo catalogue"
    result = {"what": what, "builds": builds, "plain_seconds": round(plain, 1), "install_seconds": args.install_seconds}
    print(json.dumps(result, indent=2))
    if args.doc:
        write_section(args.doc, "first-start", markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
