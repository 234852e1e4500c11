"""Read a product table: a CSV with at least `image`, or a bare folder of images. Bad rows are reported, not fatal
(`catalog.csv_rows`: malformed lines, repeated ids and columns, prices that are not plain amounts).

Image paths must resolve inside the images folder: `..`, absolute paths and links whose target lies outside are
refused (reported as table problems), so a product table cannot make the builder read other files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pandas as pd

from catalog.csv_rows import SHOWN_CHARS, drop_repeated_ids, fill_ids, parse_prices, read_csv_file
from engine.images import is_image_file

KNOWN_COLUMNS = ("product_id", "image", "name", "category", "price", "currency", "url", "family")


@dataclass
class ProductTable:
    """One row per catalogue image; `problems` lists every row that was dropped or repaired, and why."""

    frame: pd.DataFrame
    problems: list[str] = field(default_factory=list)


def read_products(images_dir: str | Path, products_csv: str | Path | None = None) -> ProductTable:
    """Products from `products_csv` (paths in `image` relative to `images_dir`), else every image in the folder."""
    images_dir = Path(images_dir)
    if not images_dir.is_dir():
        raise FileNotFoundError(f"Image folder '{images_dir}' does not exist.")
    if products_csv is None:
        return ProductTable(_scan_folder(images_dir))
    problems: list[str] = []
    frame = read_csv_file(Path(products_csv), problems)  # TableError (a ValueError) when it has no image column
    frame = _clean(frame, images_dir, problems)
    return ProductTable(frame.reset_index(drop=True), problems)


def _scan_folder(images_dir: Path) -> pd.DataFrame:
    """A table for a folder without CSV: id = relative path without suffix, category = sub-folder."""
    root = images_dir.resolve()
    paths = sorted(p for p in images_dir.rglob("*") if is_image_file(p) and _image_problem(p, root) is None)
    rows = []
    for path in paths:
        relative = PurePosixPath(path.relative_to(images_dir).as_posix())
        parent = relative.parent.as_posix()
        rows.append(
            {
                "product_id": str(relative.with_suffix("")),
                "image": str(relative),
                "name": path.stem,
                "category": "" if parent == "." else parent,
            }
        )
    return pd.DataFrame(rows, columns=["product_id", "image", "name", "category"])


def _clean(frame: pd.DataFrame, images_dir: Path, problems: list[str]) -> pd.DataFrame:
    """Drop rows without a usable image or with a repeated id, fill ids, parse prices, add the shown columns."""
    root = images_dir.resolve()
    unusable = frame["image"].map(lambda p: _image_problem(images_dir / p, root) if p else "not found")
    for line, image in frame.loc[unusable.notna(), "image"].items():
        where = "outside" if unusable[line] == "outside" else "not found under"
        problems.append(f"data row {line + 1}: image '{image[:SHOWN_CHARS]}' {where} {images_dir}; row skipped")
    frame = frame[unusable.isna()]
    duplicated = frame["image"].duplicated()
    for line, image in frame.loc[duplicated, "image"].items():
        problems.append(f"data row {line + 1}: image '{image}' listed twice; later row skipped")
    frame = drop_repeated_ids(fill_ids(frame[~duplicated].copy()), problems)
    for column in ("name", "category", "currency", "url"):
        if column not in frame.columns:
            frame[column] = ""
    frame["price"] = parse_prices(frame.get("price"), problems)
    return frame


def _image_problem(path: Path, root: Path) -> str | None:
    """None for a file inside `root` (a link counts where its target is), else "outside" or "not found"."""
    try:
        resolved = path.resolve()
        if not resolved.is_relative_to(root):
            return "outside"
        return None if resolved.is_file() else "not found"
    except (OSError, RuntimeError, ValueError):  # unreadable, a link loop, a NUL byte
        return "not found"


SHOWN_COLUMNS = {"name": "a name", "category": "a category", "price": "a price", "url": "a link"}


def data_gaps(products: pd.DataFrame) -> dict[str, list[str]]:
    """What shoppers would miss: 'a name' -> ids of the products without one (every id when the column is absent)."""
    products = products.drop_duplicates("product_id")
    gaps = {}
    for column, what in SHOWN_COLUMNS.items():
        values = products[column] if column in products else pd.Series("", index=products.index)
        empty = values.isna() | (values.astype(str).str.strip() == "")
        if empty.any():
            gaps[what] = products.loc[empty, "product_id"].astype(str).tolist()
    return gaps


def describe_gaps(gaps: dict[str, list[str]], n_products: int, examples: int = 3) -> list[str]:
    """'105 of 2,292 products have no name (img1, img100, img104, …)', or 'no product has a price'."""
    lines = []
    for what, ids in gaps.items():
        if len(ids) >= n_products:
            lines.append(f"no product has {what}")
        else:
            shown = ", ".join(ids[:examples]) + (", …" if len(ids) > examples else "")
            lines.append(f"{len(ids):,} of {n_products:,} products have no {what.split(' ', 1)[1]} ({shown})")
    return lines
