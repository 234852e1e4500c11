"""Catalogue edits made by curators, in `INDEX_DIR/managed_products.sqlite`: products added, products removed.

Added products keep every product column (name, category, price, url, …) and their photo in the managed
folder (`engine.curation.catalogue_files`); removed products are remembered by id, so a rebuild from the original
product table does not bring them back. `apply_edits` turns a build's product table into the edited one;
`catalog.manage` updates the index in place after each edit. Each edit is one transaction, logged with who
and when.
"""

from __future__ import annotations

import json
import math
import time

import pandas as pd

from engine.curation.catalogue_files import MANAGED_PREFIX, is_managed
from engine.curation.sqlite_store import SQLiteStore

FILENAME = "managed_products.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS added (
    product_id TEXT PRIMARY KEY,
    image TEXT NOT NULL,
    columns TEXT NOT NULL,
    who TEXT NOT NULL DEFAULT '',
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS removed (
    product_id TEXT PRIMARY KEY,
    who TEXT NOT NULL DEFAULT '',
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    product_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('add', 'remove')),
    who TEXT NOT NULL DEFAULT '',
    at REAL NOT NULL
);
"""


class ManagedProducts(SQLiteStore):
    """The curators' additions and removals for one index."""

    filename = FILENAME
    schema = SCHEMA

    def add(self, products: list[dict], who: str = "") -> None:
        """Add products (dicts with `product_id`, an `@managed/…` `image` and any columns) in one transaction."""
        now = time.time()
        for product in products:
            if not is_managed(product.get("image", "")):
                raise ValueError(f"an added product's image must be in the managed folder, not {product.get('image')}")
        with self._connect() as db:
            for product in products:
                columns = {k: _json_value(v) for k, v in product.items() if k not in ("product_id", "image")}
                db.execute(
                    "INSERT OR REPLACE INTO added VALUES (?, ?, ?, ?, ?)",
                    (product["product_id"], product["image"], json.dumps(columns), who, now),
                )
                db.execute("DELETE FROM removed WHERE product_id = ?", (product["product_id"],))
                db.execute("INSERT INTO history VALUES (?, 'add', ?, ?)", (product["product_id"], who, now))

    def remove(self, product_ids: list[str], who: str = "") -> list[str]:
        """Remove products in one transaction; returns the managed images no product uses any more."""
        now = time.time()
        freed = []
        with self._connect() as db:
            for product_id in product_ids:
                row = db.execute("SELECT image FROM added WHERE product_id = ?", (product_id,)).fetchone()
                if row is not None:
                    db.execute("DELETE FROM added WHERE product_id = ?", (product_id,))
                    freed.append(row[0])
                db.execute("INSERT OR REPLACE INTO removed VALUES (?, ?, ?)", (product_id, who, now))
                db.execute("INSERT INTO history VALUES (?, 'remove', ?, ?)", (product_id, who, now))
            still_used = {r[0] for r in db.execute("SELECT image FROM added").fetchall()}
        return [image for image in freed if image not in still_used]

    def added(self) -> list[dict]:
        """Every added product as a row dict (`product_id`, `image`, then its columns), oldest first."""
        with self._connect() as db:
            rows = db.execute("SELECT product_id, image, columns FROM added ORDER BY at, product_id").fetchall()
        return [{"product_id": pid, "image": image, **json.loads(columns)} for pid, image, columns in rows]

    def removed(self) -> set[str]:
        """Ids of the products curators removed."""
        with self._connect() as db:
            return {row[0] for row in db.execute("SELECT product_id FROM removed").fetchall()}

    def history(self) -> list[tuple]:
        """(product_id, action, who, at) rows, oldest first."""
        with self._connect() as db:
            return db.execute("SELECT * FROM history ORDER BY at, rowid").fetchall()


def apply_edits(frame: pd.DataFrame, store: ManagedProducts) -> tuple[pd.DataFrame, list[str]]:
    """A build's product table with the curators' removals dropped and their additions appended; problems found."""
    problems = [
        f"image '{image}' uses the reserved prefix {MANAGED_PREFIX}; row skipped"
        for image in frame.loc[frame["image"].map(is_managed), "image"]
    ]
    frame = frame[~frame["image"].map(is_managed) & ~frame["product_id"].isin(store.removed())]
    added = pd.DataFrame(store.added())
    if added.empty:
        return frame.reset_index(drop=True), problems
    added["price"] = pd.to_numeric(added.get("price"), errors="coerce").astype(float)
    clash = added["product_id"].isin(frame["product_id"])
    problems += [
        f"added product '{pid}' also appears in the product table; the added one is kept"
        for pid in added.loc[clash, "product_id"]
    ]
    frame = frame[~frame["product_id"].isin(added["product_id"])]
    return pd.concat([frame, added], ignore_index=True), problems


def _json_value(value):
    """A JSON-friendly column value (NaN and None become null)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value
