"""Query-side tricks on the held-out real rooms: crop context, flip and multi-scale test-time augmentation, cut-out.

    python scripts/bench_query_tricks.py [--index INDEX_DIR] [--rooms RDIR] [--limit N] [--json OUT]
                                         [--doc docs/BENCHMARKS.md]

Every row searches the same rooms with the same detector settings as the app (query confidence 0.01, at most 25
boxes, the rooms `training.detector.rooms.room_split` holds out); only the query's embedding changes
(`training.query_tricks.QueryTricks`). The index is not rebuilt.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import engine
from engine.settings import default_index_dir, shared_data_dir
from training.benchmark import run_benchmark
from training.query_tricks import QueryTricks
from training.report import write_section
from training.timing import machine

TITLE = "## Query-side tricks on real rooms (`scripts/bench_query_tricks.py`)"
VARIANTS = {  # row name -> QueryTricks arguments; None: the service's own embedder
    "as built (no trick)": None,
    "context +0.15": {"scales": (0.15,)},
    "context +0.3": {"scales": (0.3,)},
    "flip": {"flip": True},
    "two scales (0, +0.2)": {"scales": (0.0, 0.2)},
    "flip + two scales": {"scales": (0.0, 0.2), "flip": True},
    "tighter crop (-0.05)": {"scales": (-0.05,)},
    "tighter crop (-0.1)": {"scales": (-0.1,)},
    "background whitened (GrabCut)": {"cutout": True},
}


def measure(service, index: Path, rooms: Path, limit: int | None) -> dict:
    """The held-out rooms figures of one service, searched with the app's query detector settings."""
    figures = run_benchmark(service, index, rooms=rooms, conf=0.01, max_det=25, limit=limit, room_part="heldout")
    result = {key: figures[key] for key in ("n_rooms", "all", "large", "held_out", "shown_precision")}
    return result | {f"{stage}_p50_ms": figures["latency"][stage]["p50_ms"] for stage in ("embed", "search")}


def run_variants(index: Path, rooms: Path, limit: int | None) -> dict[str, dict]:
    """Name -> the rooms figures of each variant (each also records the index's entry count)."""
    service = engine.load(index)
    results = {}
    for name, tricks in VARIANTS.items():
        used = (
            service
            if tricks is None
            else dataclasses.replace(service, embedder=QueryTricks(service.embedder, **tricks))
        )
        results[name] = measure(used, index, rooms, limit) | {"entries": len(service.index)}
        print(name, json.dumps(results[name]), flush=True)
    return results


def table_row(name: str, result: dict, cost_ms: float) -> str:
    """One Markdown row: the recalls, the drawn-box precision and a cost in ms."""
    r, precision = result, result["shown_precision"]
    return (
        f"| {name} | {r['all']['recall@10']:.3f} | {r['large']['recall@10']:.3f} | {r['held_out']['recall@10']:.3f} "
        f"| {precision if precision is not None else '–'} | {cost_ms:.1f} |"
    )


def render(results: dict[str, dict], title: str = TITLE) -> str:
    """The Markdown section."""
    rows = [table_row(name, r, r["embed_p50_ms"]) for name, r in results.items()]
    first = next(iter(results.values()))
    return "\n".join(
        [
            title,
            "",
            f"Measured {machine()}. {first['n_rooms']} held-out rooms, the demo index as built (effnet-crop + head,",
            f"{first.get('entries', 0):,} entries), query detection at confidence 0.01 with at most 25 boxes; only the",
            "query's crop and pooling change.",
            "",
            "| query embedding | recall@10 | large-item recall@10 | held-out families recall@10 | drawn-box precision"
            " | embed p50 ms |",
            "|---|---|---|---|---|---|",
            *rows,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Run every variant, print the figures, optionally write JSON and the BENCHMARKS.md section."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, default=default_index_dir())
    ap.add_argument("--rooms", type=Path, default=shared_data_dir() / "ikea-rooms")
    ap.add_argument("--limit", type=int, default=None, help="first N held-out rooms only")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--doc", type=Path, help="write the `--section` section of this Markdown file")
    ap.add_argument("--section", default="query-tricks", help="the section's marker name in --doc")
    ap.add_argument("--title", default=TITLE, help="the section's Markdown heading")
    args = ap.parse_args(argv)
    results = run_variants(args.index, args.rooms, args.limit)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    section = render(results, args.title)
    print(section)
    if args.doc:
        write_section(args.doc, args.section, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
