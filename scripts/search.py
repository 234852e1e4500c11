"""Search a catalogue index with a photo: by a box, or a product photo whole, or a room by its largest object.

python scripts/search.py --index INDEX_DIR --image F [--box x0,y0,x1,y1] [--k 10] [--refine "green velvet"] [--json]

--refine keeps the matches with those colours (of the product photo), words (in the catalogue's text columns)
and price limits ("under 2000", "over 100", "between 100 and 400"), re-ranked; see engine/search/refine.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import engine
from engine.search.query import default_query_box
from engine.search.refine import parse_refinement
from engine.settings import default_index_dir


def parse_box(text: str) -> tuple[float, float, float, float]:
    """'x0,y0,x1,y1' -> a box with positive width and height."""
    values = tuple(float(v) for v in text.split(","))
    if len(values) != 4 or values[2] <= values[0] or values[3] <= values[1]:
        raise argparse.ArgumentTypeError("--box must be x0,y0,x1,y1 with x1 > x0 and y1 > y0")
    return values


def main(argv: list[str] | None = None) -> int:
    """Print the top-k matches as a table, or as JSON with --json."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=default_index_dir(), help="index folder")
    parser.add_argument("--image", type=Path, required=True, help="query photo")
    parser.add_argument("--box", type=parse_box, help="x0,y0,x1,y1 in image pixels")
    parser.add_argument("--k", type=int, default=10, help="number of products")
    parser.add_argument("--weights", default=None, help="detector weights (default: the index's)")
    parser.add_argument("--refine", default="", help='words that refine the matches, e.g. "green under 2000"')
    parser.add_argument("--json", action="store_true", help="print JSON to stdout")
    args = parser.parse_args(argv)
    try:
        service = engine.load(args.index, weights=args.weights)
        image = engine.load_image(args.image)
    except (engine.IndexNotFoundError, engine.IndexMismatchError, engine.ImageLoadError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ValueError as err:  # a checkpoint refused by the safe loader
        print(f"error: {err}", file=sys.stderr)
        return 2
    analysis = service.analyse(image)
    refinement = parse_refinement(args.refine)
    if refinement:
        box, how = (args.box, "given box") if args.box else default_query_box(image, analysis.detections)
        matches = service.search_box_refined(analysis, box, args.k, refinement)
        how += f"; refined by {refinement.describe()}"
    elif args.box:
        box, how, matches = args.box, "given box", service.search_box(analysis, args.box, k=args.k)
    else:
        matches, box, how = service.search_photo(analysis, k=args.k)
    if args.json:
        print(json.dumps([m.to_json() for m in matches], indent=2, ensure_ascii=False))
        return 0
    print(f"Query box {tuple(round(v) for v in box)} ({how}):")
    for m in matches:
        price = "" if m.price is None else f"{m.price:,.2f} {m.currency}".strip()
        print(f"{m.rank:>3}  {m.score:.3f}  {m.product_id:<20} {m.category:<18} {price:>14}  {m.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
