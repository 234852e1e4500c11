"""Curated product boxes: a curator's own box for a catalogue product, in `INDEX_DIR/curated_boxes.sqlite`.

A curated box is in pixels of the product's photo and is tied to that photo's content hash: when the photo
changes, the box no longer applies (builds report it and ignore it). The index then holds, for that product,
the curated box and the whole photo, plus the detected objects only when the curator kept them
(`catalog.curate` re-embeds the product in place; `catalog.build` keeps the box in later builds).
Every set or clear is one transaction and is also appended to a history, with who and when.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from engine.curation.sqlite_store import SQLiteStore

FILENAME = "curated_boxes.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS boxes (
    product_id TEXT PRIMARY KEY,
    image TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
    keep_objects INTEGER NOT NULL DEFAULT 0,
    who TEXT NOT NULL DEFAULT '',
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    product_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('set', 'clear')),
    box TEXT NOT NULL DEFAULT '',
    keep_objects INTEGER NOT NULL DEFAULT 0,
    who TEXT NOT NULL DEFAULT '',
    at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class CuratedBox:
    """A product's curated box, the photo it was drawn on (image and sha1), and who set it when."""

    product_id: str
    image: str
    content_hash: str
    box: tuple[float, float, float, float]
    keep_objects: bool = False  # keep the detected object entries next to the curated box
    who: str = ""
    at: float = 0.0


class CuratedBoxes(SQLiteStore):
    """The curated boxes of one index; `CuratedBoxes(index_dir)` creates the database on first use."""

    filename = FILENAME
    schema = SCHEMA

    def set(self, box: CuratedBox) -> CuratedBox:
        """Store (or replace) a product's box, stamped now; returns it with `at` filled in."""
        x0, y0, x1, y1 = (float(v) for v in box.box)
        if not (x1 > x0 and y1 > y0):
            raise ValueError(f"a box needs x1 > x0 and y1 > y0, not {box.box}")
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO boxes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (box.product_id, box.image, box.content_hash, x0, y0, x1, y1, int(box.keep_objects), box.who, now),
            )
            _log(db, box.product_id, "set", (x0, y0, x1, y1), box.keep_objects, box.who, now)
        return CuratedBox(box.product_id, box.image, box.content_hash, (x0, y0, x1, y1), box.keep_objects, box.who, now)

    def clear(self, product_id: str, who: str = "") -> bool:
        """Forget a product's box (back to detection); whether there was one."""
        now = time.time()
        with self._connect() as db:
            gone = db.execute("DELETE FROM boxes WHERE product_id = ?", (product_id,)).rowcount
            if gone:
                _log(db, product_id, "clear", None, False, who, now)
        return bool(gone)

    def get(self, product_id: str) -> CuratedBox | None:
        """A product's box, or None."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM boxes WHERE product_id = ?", (product_id,)).fetchone()
        return None if row is None else _box(row)

    def all(self) -> dict[str, CuratedBox]:
        """Every curated box, by product id."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM boxes ORDER BY product_id").fetchall()
        return {row[0]: _box(row) for row in rows}

    def history(self, product_id: str | None = None) -> list[tuple]:
        """(product_id, action, box text, keep_objects, who, at) rows, oldest first."""
        sql, args = "SELECT * FROM history", ()
        if product_id is not None:
            sql, args = sql + " WHERE product_id = ?", (product_id,)
        with self._connect() as db:
            return db.execute(sql + " ORDER BY at, rowid", args).fetchall()


def _box(row: tuple) -> CuratedBox:
    """A `boxes` row as a CuratedBox."""
    product_id, image, content_hash, x0, y0, x1, y1, keep, who, at = row
    return CuratedBox(product_id, image, content_hash, (x0, y0, x1, y1), bool(keep), who, at)


def _log(db, product_id: str, action: str, box, keep: bool, who: str, at: float) -> None:
    """Append one line to the history."""
    text = "" if box is None else ",".join(f"{v:.1f}" for v in box)
    db.execute("INSERT INTO history VALUES (?, ?, ?, ?, ?, ?)", (product_id, action, text, int(keep), who, at))
