"""Retrieval quality benchmark: synthetic product queries, or shop-the-look on real room photos.

    python scripts/benchmark.py --index INDEX_DIR --queries QDIR [--json OUT] [--limit N]
    python scripts/benchmark.py --index INDEX_DIR --rooms RDIR [--fallback-windows 30] [--json OUT]
    python scripts/benchmark.py --table A.json B.json ... --doc docs/BENCHMARKS.md --section retrieval

Queries (QDIR/queries.json from scripts/make_queries.py) are searched twice: with the given box and with the
detection of highest IoU with it. Rooms (RDIR/rooms.csv: image, room_type, products): every detection is
searched. `training.benchmark` says what each figure is. The last printed line is a one-line summary.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import engine
from training.benchmark import run_benchmark
from training.report import print_report, render_table, summary_line, write_section


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--queries", type=Path, help="folder with queries.json (scripts/make_queries.py)")
    mode.add_argument("--rooms", type=Path, help="folder with rooms.csv (image, room_type, products)")
    mode.add_argument("--table", type=Path, nargs="+", help="render result JSON files as a comparison table")
    ap.add_argument("--json", type=Path, help="write every figure (and per-query results) here")
    ap.add_argument("--limit", type=int, default=None, help="first N queries (or rooms) only")
    ap.add_argument(
        "--room-split", default="all", choices=("all", "train", "heldout"),
        help="rooms of this part of training.detector.rooms.room_split (the detector trains on 'train' rooms)",
    )  # fmt: skip
    ap.add_argument("--family-column", default=None, help="index column naming a product's family")
    ap.add_argument("--split-seed", type=int, default=0, help="detector training's family split seed")
    ap.add_argument("--val-fraction", type=float, default=0.1, help="share of families held out of training")
    ap.add_argument("--fallback-windows", type=int, default=0, help="N sliding windows for rooms with no detection")
    ap.add_argument("--windows-always", action="store_true", help="add the windows to every room")
    ap.add_argument("--conf", type=float, default=None, help="query-time detection confidence (default: the index's)")
    ap.add_argument("--query-weights", default=None, help="another detector for the queries (crop embeddings only)")
    ap.add_argument("--max-det", type=int, default=None, help="query-time cap on detections per photo")
    ap.add_argument("--query-imgsz", type=int, default=None, help="query-time detector input size")
    ap.add_argument("--bonus", type=float, default=None, help="class bonus of the ranking (default: RankingConfig's)")
    ap.add_argument("--doc", type=Path, help="Markdown file to write a section into (e.g. docs/BENCHMARKS.md)")
    ap.add_argument("--section", default="retrieval", help="section name in --doc")
    args = ap.parse_args(argv)
    if not args.table and not args.index:
        ap.error("--index is required with --queries or --rooms")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run a benchmark (or render a table), print it, and write JSON / Markdown when asked."""
    args = parse_args(argv)
    if args.table:
        markdown = render_table([json.loads(path.read_text()) for path in args.table])
        print(markdown)
        if args.doc:
            write_section(args.doc, args.section, markdown)
        return 0
    service = engine.load(args.index)
    if args.bonus is not None:
        service.ranking = dataclasses.replace(service.ranking, bonus=args.bonus)
    result = run_benchmark(
        service, args.index, args.queries, args.rooms,
        query_weights=args.query_weights, conf=args.conf, max_det=args.max_det, query_imgsz=args.query_imgsz,
        family_column_name=args.family_column, split_seed=args.split_seed, val_fraction=args.val_fraction,
        limit=args.limit, room_part=args.room_split, fallback_windows=args.fallback_windows,
        windows_always=args.windows_always,
    )  # fmt: skip
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, default=str) + "\n")
    if args.doc:
        write_section(args.doc, args.section, render_table([result]))
    print_report(result)
    print(summary_line(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
