"""Does a second detector replica help shoppers who upload at once? One shared detector against a small pool.

    python scripts/bench_detector_pool.py [--weights W] [--rooms DIR] [--shoppers 10] [--replicas 1 2]
        [--rounds 3] [--json OUT] [--doc docs/BENCHMARKS.md]

The app shares one detector between sessions; a forward pass holds a model copy's lock (the Detect head's
captured maps are per forward), and `Detector(..., replicas=R)` keeps R copies (`engine.detection.replicas`).
Here `--shoppers` threads each send a different real room photo to one shared detector at the same moment,
`--rounds` times, for each R. Reported: the upload's detector wait (p50 / p95 / max, queueing included), the wall
time of a round, and the process's peak resident memory so far (it only grows: each row adds its copies).
torch keeps its default intra-op threads in every case.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

import numpy as np

from engine.detection.detector import Detector, DetectorConfig
from engine.images import load_image
from engine.settings import default_weights, query_detection, sample_rooms_dir
from training.report import publish
from training.timing import machine


def rss_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_round(detector: Detector, photos: list) -> tuple[list[float], float]:
    """Every shopper uploads at once to the shared detector; (each upload's seconds, the round's wall seconds)."""
    waits = [0.0] * len(photos)
    start = threading.Barrier(len(photos) + 1)

    def shopper(i: int) -> None:
        start.wait()
        began = time.perf_counter()
        detector.analyse([photos[i]])
        waits[i] = time.perf_counter() - began

    threads = [threading.Thread(target=shopper, args=(i,)) for i in range(len(photos))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return waits, time.perf_counter() - began


def measure(weights: str, photos: list, sizes: list[int], rounds: int) -> list[dict]:
    """One row per pool size, ascending (memory is the process's peak so far, so each row adds its replicas)."""
    config = DetectorConfig(**query_detection())
    rows = []
    for size in sorted(sizes):
        detector = Detector(weights, config, replicas=size)
        one_round(detector, photos)  # warm-up: first forwards allocate
        waits, walls = [], []
        for _ in range(rounds):
            w, wall = one_round(detector, photos)
            waits += w
            walls.append(wall)
        ms = np.array(waits) * 1000
        wait = {"p50": round(float(np.percentile(ms, 50))), "p95": round(float(np.percentile(ms, 95)))}
        rows.append(
            {
                "replicas": size,
                "uploads": len(waits),
                "wait_ms": wait | {"max": round(float(ms.max()))},
                "round_s": round(float(np.median(walls)), 2),
                "rss_mb": round(rss_mb()),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def markdown(result: dict) -> str:
    """The `detector-pool` section."""
    lines = [
        "## A second detector replica (`scripts/bench_detector_pool.py`)",
        "",
        f"Measured {result['date']} on {result['machine']}, load {result['load']:.1f} at the start. "
        f"{result['shoppers']} shoppers upload a different real room photo at the same moment, {result['rounds']} "
        f"times, to one shared detector with R model copies (an idle copy first). Detector `{result['weights']}`, "
        "the app's query settings.",
        "",
        "| replicas | uploads | detector wait p50 / p95 / max ms | round wall s (median) | peak memory MB |",
        "|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        w = r["wait_ms"]
        lines.append(
            f"| {r['replicas']} | {r['uploads']} | {w['p50']} / {w['p95']} / {w['max']} | {r['round_s']} | "
            f"{r['rss_mb']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default=None, help="detector checkpoint (default: the shipped one)")
    parser.add_argument("--rooms", type=Path, default=sample_rooms_dir(), help="room photos")
    parser.add_argument("--shoppers", type=int, default=10)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("--doc", type=Path, help="write the `detector-pool` section of this Markdown file")
    args = parser.parse_args(argv)
    paths = sorted(p for p in args.rooms.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"})
    photos = [load_image(p) for p in paths[: args.shoppers]]
    if len(photos) < args.shoppers:
        raise SystemExit(f"{args.rooms} has {len(photos)} photos; {args.shoppers} shoppers need one each")
    weights = args.weights or default_weights()
    load = os.getloadavg()[0]
    rows = measure(weights, photos, args.replicas, args.rounds)
    result = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "load": load, "weights": Path(weights).name}
    result |= {"shoppers": args.shoppers, "rounds": args.rounds, "rows": rows}
    publish(result, args.json, args.doc, "detector-pool", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
