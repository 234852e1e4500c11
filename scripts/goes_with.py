"""Products of other kinds that go with catalogue products, learned from the catalogue's room photos.

lookalike goes-with --index DIR --product ID [ID ...] [--k 10] [--json]

--json prints one JSON object mapping each given product id to its list of {rank, product_id, name, category,
score} (an empty list for an id the catalogue lacks), so a whole evaluation runs in one process. How the
suggestions are learned: engine/search/goes_with (room photos, colours, materials, look).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from engine.index.backends import load_index
from engine.index.store import IndexNotFoundError
from engine.search import goes_with_for
from engine.settings import default_index_dir

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # terminal escapes, bidi overrides


def positive(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Print each product's suggestions as a table, or all of them as one JSON object with --json."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=default_index_dir(), help="index folder")
    parser.add_argument("--product", nargs="+", required=True, metavar="ID", help="catalogue product ids")
    parser.add_argument("--k", type=positive, default=10, help="suggestions per product")
    parser.add_argument("--json", action="store_true", help="print one JSON object to stdout")
    args = parser.parse_args(argv)
    try:
        model = goes_with_for(load_index(args.index, mmap=None))
    except (IndexNotFoundError, OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    found = {pid: model.suggest([pid], args.k) for pid in dict.fromkeys(args.product)}
    unknown = [pid for pid in found if pid not in model.position]
    for pid in unknown:
        print(f"warning: no product '{shown(pid)}' in this catalogue", file=sys.stderr)
    if args.json:
        print(json.dumps({pid: [s.to_json() for s in found[pid]] for pid in found}, indent=2, ensure_ascii=False))
    else:
        print(shown(model.source))
        for pid, suggestions in found.items():
            print(f"\nGoes well with {shown(pid)}:")
            for s in suggestions:
                what = f"{shown(s.name)}  ({shown(s.category)}; {s.why})"
                print(f"  {s.rank:2d}. {s.score:.3f}  {shown(s.product_id)}  {what}")
    return 1 if len(unknown) == len(found) else 0


def shown(text) -> str:
    """Catalogue text for a terminal: control characters (escape sequences) and bidi overrides dropped."""
    return CONTROL.sub("", str(text))


if __name__ == "__main__":
    sys.exit(main())
