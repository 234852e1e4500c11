"""Make a retrieval query set: one catalogue product (plus distractors) pasted into a held-out photo-like scene.

    python scripts/make_queries.py --images DIR --products CSV --out QDIR [--n 300] [--seed 1234] [--imgsz 640]

Writes QDIR/qNNNN.jpg and QDIR/queries.json (`training.queries` says what the scenes hold back from training).
Same arguments, same bytes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from training.queries import make_queries


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=Path, required=True, help="catalogue root; products.csv paths are relative")
    ap.add_argument("--products", type=Path, required=True, help="CSV with image, product_id, category, ...")
    ap.add_argument("--out", type=Path, required=True, help="query folder to (re)write")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1234, help="training scenes use seed 0")
    ap.add_argument("--imgsz", type=int, default=640, help="longer side of a query image")
    args = ap.parse_args(argv)
    records = make_queries(args.images, args.products, args.out, args.n, args.seed, args.imgsz)
    n_occluded = sum(r["visible"] < 0.95 for r in records)
    print(f"wrote {len(records)} queries ({n_occluded} partly hidden or cut by the frame) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
