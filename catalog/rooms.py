"""A catalogue's room photos at build time: rooms.csv -> the room photos that show each product.

`rooms.csv` has one row per room photo: `image` (the photo) and `products` (the catalogue images, or product
ids, it shows, separated by spaces), as the demo catalogue ikea-rooms has it. The build stores each product's
list in its metadata (`engine.search.goes_with.ROOMS_COLUMN`) so "goes well with" learns from it; the photos
themselves are never opened. It is found beside the product table, else in the images folder, or given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from engine.search.goes_with import ROOMS_COLUMN, format_rooms

ROOMS_FILE = "rooms.csv"
MAX_BYTES = 64 * 2**20  # a bigger rooms.csv is refused (not read)
MAX_LISTED = 1000  # products listed per room photo; more are ignored
AUTO = "auto"


@dataclass
class RoomLists:
    """What the build learned about room photos: facts for the manifest, and problems for the report."""

    facts: dict = field(default_factory=lambda: {"room_photos": 0})
    problems: list[str] = field(default_factory=list)


def find_rooms_csv(rooms: str | Path | None, images_dir: Path, products_csv: str | Path | None) -> Path | None:
    """The rooms.csv to learn from: the given one, or (`AUTO`) the one beside the product table or in the images
    folder; None for none."""
    if rooms is None or str(rooms) == "none":
        return None
    if str(rooms) != AUTO:
        return Path(rooms)
    beside = [Path(products_csv).parent / ROOMS_FILE] if products_csv else []
    return next((path for path in [*beside, images_dir / ROOMS_FILE] if path.is_file()), None)


def with_rooms(frame: pd.DataFrame, rooms_csv: Path | None) -> tuple[pd.DataFrame, RoomLists]:
    """The product table with each product's room photos (`ROOMS_COLUMN`, '[]' for none), and what was learned."""
    found = RoomLists()
    listed: dict[str, list[str]] = {}
    if rooms_csv is not None:
        listed = _read(rooms_csv, found)
    by_image = frame["image"].astype(str).map(lambda image: listed.get(image, []))
    by_id = frame["product_id"].astype(str).map(lambda pid: listed.get(pid, []))
    lists = [sorted(set(a) | set(b)) for a, b in zip(by_image, by_id)]
    in_rooms = sum(bool(rooms) for rooms in lists)
    if rooms_csv is not None:
        photos = {room for rooms in lists for room in rooms}
        found.facts = {"rooms_csv": str(rooms_csv), "room_photos": len(photos), "products_in_rooms": in_rooms}
    return frame.assign(**{ROOMS_COLUMN: [format_rooms(rooms) for rooms in lists]}), found


def _read(path: Path, found: RoomLists) -> dict[str, list[str]]:
    """{catalogue image or product id: [room photo names]} from a rooms.csv; problems go to `found`."""
    try:
        if path.stat().st_size > MAX_BYTES:
            found.problems.append(f"rooms: {path.name} is over {MAX_BYTES // 2**20} MB; not read")
            return {}
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as err:
        found.problems.append(f"rooms: cannot read {path.name}: {err}")
        return {}
    if not {"image", "products"} <= set(table.columns):
        found.problems.append(f"rooms: {path.name} needs the columns 'image' and 'products'; not used")
        return {}
    listed: dict[str, list[str]] = {}
    for image, products in zip(table["image"], table["products"]):
        room = Path(str(image).strip()).name
        for product in str(products).split()[:MAX_LISTED] if room else ():
            listed.setdefault(product, []).append(room)
    return listed
