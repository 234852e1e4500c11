"""Compact an index: rebuild its vector index from the stored vectors, dropping removed ones (HNSW tombstones).

python scripts/compact_index.py --index INDEX_DIR [--retrain] [--factory F] [--param NAME=VALUE ...]

--retrain also re-learns the codecs (IVF centroids, SQ ranges, ITQ rotation) on a fresh sample, e.g. after the
catalogue has grown a lot; --factory switches the index type (e.g. Flat -> HNSW32,SQ8). The result is committed
as a new version, atomically; app processes pick it up when they reload.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from engine.index.backends import load_index
from engine.index.factories import parse_params
from engine.index.store import IndexNotFoundError, writer_lock


def main(argv: list[str] | None = None) -> int:
    """Load, compact, save; print what changed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True, help="index folder")
    parser.add_argument("--retrain", action="store_true", help="re-learn the codecs on a fresh sample")
    parser.add_argument("--factory", help="switch to this FAISS index_factory string")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="search parameter")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        with writer_lock(args.index):
            index = load_index(args.index)
            before = dict(index.manifest["index"]) if "index" in index.manifest else {"factory": index.factory}
            index.compact(retrain=args.retrain, factory=args.factory, params=parse_params(args.param) or None)
            version = index.save(args.index)
            index.close()
    except (IndexNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    after = index.manifest["index"]
    print(
        f"{before['factory']} ({before.get('ntotal', len(index))} stored, {before.get('tombstones', 0)} removed) -> "
        f"{after['factory']} ({after['ntotal']} stored, {after['tombstones']} removed) in "
        f"{time.perf_counter() - started:.1f} s; version {getattr(version, 'name', version)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
