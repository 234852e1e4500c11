"""Embedding heads side by side: the retrieval benchmark on the same rooms (or queries) with one index per head.

    python scripts/bench_heads.py --variant NAME=INDEX_DIR [--variant NAME2=INDEX_DIR2 ...]
        (--rooms RDIR [--room-split heldout] | --queries QDIR) [--json OUT] [--doc docs/BENCHMARKS.md --section S]

Each index holds the same catalogue embedded with a different head (`scripts/train_head.py --reembed`, or
`scripts/reembed_index.py`); every row runs `training.benchmark.run_benchmark` with the app's ranking and the
rooms benchmark's query detection (confidence 0.01, at most 25 boxes). The first variant is the baseline.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import engine
from engine.files import atomic_write_text
from scripts.bench_query_tricks import table_row
from training.benchmark import run_benchmark
from training.report import write_section
from training.timing import machine

ROOM_KEYS = ("n_rooms", "all", "large", "held_out", "shown_precision")


def parse_variant(text: str) -> tuple[str, Path]:
    """'NAME=INDEX_DIR' -> (name, path)."""
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=INDEX_DIR, got {text!r}")
    return name, Path(path)


def measure(variants: list[tuple[str, Path]], rooms: Path | None, queries: Path | None, part: str) -> dict:
    """Name -> the figures of its index (rooms or queries mode)."""
    results = {}
    for name, index in variants:
        service = engine.load(index)
        figures = run_benchmark(service, index, queries, rooms, conf=0.01, max_det=25, room_part=part)
        if rooms:
            results[name] = {key: figures[key] for key in ROOM_KEYS}
        else:
            results[name] = {group: figures[group] for group in ("all", "held_out")}
        results[name]["embedding"] = figures["embedding"]
        latency = figures["latency"] if rooms else figures["all"]["latency"]
        results[name]["embed_p50_ms"] = latency["embed"]["p50_ms"]
        print(name, json.dumps(results[name], default=str), flush=True)
    return results


def render(results: dict, rooms: bool) -> str:
    """The Markdown table."""
    if rooms:
        header = "| head | recall@10 | large-item recall@10 | held-out families recall@10 | drawn-box precision |"
        header += " embed p50 ms |"
        rows = [table_row(name, r, r["embed_p50_ms"]) for name, r in results.items()]
    else:
        header = "| head | R@1 | R@10 | held-out families R@10 | R@1 (detected box) | R@10 (detected box) |"
        rows = [
            f"| {name} | {r['all']['given']['recall@1']:.3f} | {r['all']['given']['recall@10']:.3f} "
            f"| {r['held_out']['given']['recall@10']:.3f} | {r['all']['detected']['recall@1']:.3f} "
            f"| {r['all']['detected']['recall@10']:.3f} |"
            for name, r in results.items()
        ]
    return "\n".join([f"Measured {machine()}.", "", header, "|" + "---|" * (header.count("|") - 1), *rows])


def main(argv: list[str] | None = None) -> int:
    """Run every variant, print the table, optionally write JSON and a BENCHMARKS.md section."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", type=parse_variant, action="append", required=True, help="NAME=INDEX_DIR")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--rooms", type=Path, help="rooms folder (rooms.csv)")
    mode.add_argument("--queries", type=Path, help="query folder (queries.json)")
    ap.add_argument("--room-split", default="heldout", choices=["all", "train", "heldout"])
    ap.add_argument("--json", type=Path)
    ap.add_argument("--doc", type=Path, help="write a section of this Markdown file")
    ap.add_argument("--section", default="heads-rooms", help="the section's marker name")
    args = ap.parse_args(argv)
    results = measure(args.variant, args.rooms, args.queries, args.room_split)
    if args.json:
        atomic_write_text(args.json, json.dumps(results, indent=2, default=str))
    table = render(results, bool(args.rooms))
    print(table)
    if args.doc:
        write_section(args.doc, args.section, table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
