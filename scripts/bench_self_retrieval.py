"""Self-retrieval: does a catalogue photo, searched with the default settings, find its own product first?

    python scripts/bench_self_retrieval.py --index INDEX_DIR --images DIR --products CSV [--limit N] \
        [--doc docs/BENCHMARKS.md]

Each photo is searched twice through the path the CLI and the app take (`engine.Lookalike.search_photo`): the
file as it is, and a shopper's copy of it (resized to --scale and re-saved as JPEG at --quality: other bytes and
other pixels, so nothing can match by file hash). Misses are listed with what came first instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

import engine
from training.report import write_section
from training.self_retrieval import VARIANTS, markdown, rate, run
from training.timing import machine


def main(argv: list[str] | None = None) -> int:
    """Run, print, and write JSON / the Markdown section when asked."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--images", type=Path, required=True, help="the catalogue's image folder")
    ap.add_argument("--products", type=Path, required=True, help="its CSV (product_id, image)")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--scale", type=float, default=0.7)
    ap.add_argument("--quality", type=int, default=75)
    ap.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--doc", type=Path)
    args = ap.parse_args(argv)
    service = engine.load(args.index)
    table = pd.read_csv(args.products, dtype=str, keep_default_na=False).head(args.limit)
    manifest = service.index.manifest
    result = {"date": pd.Timestamp.now().strftime("%Y-%m-%d %H:%M"), "machine": machine()}
    result |= {"index": args.index.name, "weights": Path(manifest["detector"]["weights"]).name}
    result |= {"embedding": manifest["embedding"]["name"] + (" + head" if manifest["embedding"].get("head") else "")}
    result |= {"scale": args.scale, "quality": args.quality}
    result |= run(service, args.images, table, args.scale, args.quality, tuple(args.variants))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    if args.doc:
        write_section(args.doc, "self-retrieval", markdown(result))
    print(markdown(result))
    for miss in result["misses"][:20]:
        print(f"  miss ({miss['variant']}): {miss['product_id']} -> {miss['first']}")
    print(f"summary: self-retrieval file {rate(result, 'original')} copy {rate(result, 'copy')} ({result['n']} photos)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
