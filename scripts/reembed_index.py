"""Re-embed a catalogue index with an embedding head: its stored base vectors go through the head (seconds, no CNN).

python scripts/reembed_index.py --index BASE_INDEX_DIR --head models/head-lite0.pt --out INDEX_DIR

A head that carries a fine-tuned network tail (`lookalike train-backbone`) changes the base vectors too: then each
entry is embedded again from its catalogue photo and box (minutes, with a progress bar).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from catalog.reembed import reembed_index
from engine.index.manifest import IndexMismatchError
from engine.index.store import IndexNotFoundError


def main(argv: list[str] | None = None) -> int:
    """Write the re-embedded index and print what was done."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True, help="index built without a head (base vectors)")
    ap.add_argument("--head", type=Path, required=True, help="head checkpoint (train_head.py or train_backbone.py)")
    ap.add_argument("--out", type=Path, required=True, help="folder for the re-embedded index")
    args = ap.parse_args(argv)
    try:
        index = reembed_index(args.index, args.out, args.head)
    except (IndexNotFoundError, IndexMismatchError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    sha = index.manifest["head"]["sha256"]
    print(f"Index written to {args.out}: {len(index)} vectors, {index.dim}-d, head sha256 {sha[:12]}…")
    return 0


if __name__ == "__main__":
    sys.exit(main())
