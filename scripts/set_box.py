"""Set a catalogue product's own box (pixels of its photo) and re-embed it in place, or go back to detection.

python scripts/set_box.py --index INDEX_DIR --product ID --box x0,y0,x1,y1 [--keep-objects] [--who NAME]
python scripts/set_box.py --index INDEX_DIR --product ID --clear

The box is stored next to the index (curated_boxes.sqlite, with who and when) and later builds keep it.
Without --keep-objects the product's detected objects leave the index; its whole photo stays.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from catalog.curate import clear_box, set_box
from catalog.updater import UpdateError
from engine.index.manifest import IndexMismatchError
from engine.index.store import IndexNotFoundError
from engine.settings import default_index_dir
from scripts.search import parse_box


def main(argv: list[str] | None = None) -> int:
    """Apply the box (or clear it) and say what the index holds for the product now."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=default_index_dir(), help="index folder")
    parser.add_argument("--product", required=True, help="product id")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--box", type=parse_box, help="x0,y0,x1,y1 in pixels of the product photo")
    action.add_argument("--clear", action="store_true", help="forget the curated box: back to detection")
    parser.add_argument("--keep-objects", action="store_true", help="keep the detected objects in the index too")
    parser.add_argument("--who", default=_user(), help="recorded with the change (default: your user name)")
    args = parser.parse_args(argv)
    try:
        if args.clear:
            had = clear_box(args.index, args.product, who=args.who)
            print(f"{args.product}: " + ("curated box cleared; " if had else "had no curated box; ") + "re-embedded")
        else:
            saved = set_box(args.index, args.product, args.box, who=args.who, keep_objects=args.keep_objects)
            box = ",".join(f"{v:g}" for v in saved.box)
            print(f"{args.product}: curated box {box} on {saved.image} saved by {saved.who or 'someone'}; re-embedded")
    except (UpdateError, IndexNotFoundError, IndexMismatchError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def _user() -> str:
    """The login name, when there is one."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


if __name__ == "__main__":
    sys.exit(main())
