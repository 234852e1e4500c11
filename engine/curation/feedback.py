"""Curator feedback on search results, stored in SQLite next to the index (`INDEX_DIR/feedback.sqlite`).

A *query* is the crop a curator searched with (stored as PNG bytes, so marks stay usable after the photo is
gone) plus where it came from. A *mark* says, for one product of that query's results, "similar" or
"not similar", and whether it is the session's *chosen* pair (the product the curator would sell in its place;
a chosen product counts as similar). `scripts/train_head.py --feedback` turns the marks into triplets
(anchor = query crop, positive = similar or chosen, negative = not similar).

Every call opens its own short-lived connection (one transaction), so one store can be shared by Streamlit's
threads, and the file outlives app restarts and index rebuilds (index saves only replace version folders).
`save_marks` writes a whole curation save (crop, marks, chosen pair) in one transaction: all of it or nothing.
"""

from __future__ import annotations

import hashlib
import io
import sqlite3
import time
from dataclasses import dataclass

import pandas as pd
from PIL import Image

from engine.curation.sqlite_store import SQLiteStore

FILENAME = "feedback.sqlite"
SIMILAR, NOT_SIMILAR = "similar", "not_similar"
VERDICTS = (SIMILAR, NOT_SIMILAR)
SCHEMA = """
CREATE TABLE IF NOT EXISTS queries (
    id INTEGER PRIMARY KEY,
    created REAL NOT NULL,
    crop_sha1 TEXT NOT NULL UNIQUE,
    crop_png BLOB NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    box TEXT NOT NULL DEFAULT '',
    embedding TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS marks (
    query_id INTEGER NOT NULL REFERENCES queries(id) ON DELETE CASCADE,
    product_id TEXT NOT NULL,
    verdict TEXT CHECK (verdict IN ('similar', 'not_similar')),
    chosen INTEGER NOT NULL DEFAULT 0,
    rank INTEGER,
    score REAL,
    updated REAL NOT NULL,
    who TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (query_id, product_id)
);
"""
REVIEW_SQL = """
SELECT m.query_id, m.product_id, m.verdict, m.chosen, m.rank, m.score, m.updated, m.who, q.created, q.source,
       q.box, q.embedding
FROM marks m JOIN queries q ON q.id = m.query_id
ORDER BY m.updated DESC, m.query_id DESC, m.rank, m.product_id
"""


@dataclass(frozen=True)
class Mark:
    """One product's mark for one query."""

    query_id: int
    product_id: str
    verdict: str | None  # SIMILAR, NOT_SIMILAR or None (only chosen)
    chosen: bool
    rank: int | None = None
    score: float | None = None
    who: str = ""  # the curator who last saved it ("" for marks made before names were recorded)

    @property
    def positive(self) -> bool:
        """Marked similar, or chosen."""
        return self.chosen or self.verdict == SIMILAR


class FeedbackStore(SQLiteStore):
    """Curator marks for one index; `FeedbackStore(index_dir)` creates the database on first use."""

    filename = FILENAME
    schema = SCHEMA
    added_columns = (("marks", "who", "TEXT NOT NULL DEFAULT ''"),)

    def add_query(self, crop: Image.Image, source: str = "", box=None, embedding: str = "") -> int:
        """Store a query crop (once per distinct image) and return its id."""
        with self._connect() as db:
            return _add_query(db, crop, source, box, embedding)

    def find_query(self, crop: Image.Image) -> int | None:
        """The id of a stored query crop, or None."""
        with self._connect() as db:
            row = db.execute("SELECT id FROM queries WHERE crop_sha1 = ?", (_png(crop)[1],)).fetchone()
        return None if row is None else int(row[0])

    def mark(self, query_id: int, product_id: str, verdict: str | None, rank=None, score=None, who: str = "") -> None:
        """Set (or clear, with None) a product's similar / not-similar verdict for a query, by curator `who`."""
        _check_verdict(verdict)
        with self._connect() as db:
            _mark(db, [(query_id, product_id, verdict, rank, score)], who)

    def choose(self, query_id: int, product_id: str | None, who: str = "") -> None:
        """Make `product_id` the query's chosen pair (at most one per query; None clears it)."""
        with self._connect() as db:
            _choose(db, query_id, product_id, who)

    def save_marks(
        self, crop: Image.Image, marks, chosen: str | None, source="", box=None, embedding="", who: str = ""
    ) -> int:
        """Save a crop, its (product_id, verdict, rank, score) marks and chosen pair atomically; the query id.

        `who` (the curator's name) is recorded on every mark of the save.
        """
        for mark in marks:
            _check_verdict(mark[1])
        with self._connect() as db:
            query_id = _add_query(db, crop, source, box, embedding)
            _mark(db, [(query_id, *mark) for mark in marks], who)
            _choose(db, query_id, chosen, who)
        return query_id

    def marks(self, query_id: int | None = None) -> list[Mark]:
        """Every mark (of one query when given), oldest query first."""
        sql = "SELECT query_id, product_id, verdict, chosen, rank, score, who FROM marks"
        args: tuple = ()
        if query_id is not None:
            sql, args = sql + " WHERE query_id = ?", (query_id,)
        with self._connect() as db:
            rows = db.execute(sql + " ORDER BY query_id, rank, product_id", args).fetchall()
        return [Mark(q, p, v, bool(c), r, s, w) for q, p, v, c, r, s, w in rows]

    def crop(self, query_id: int) -> Image.Image:
        """The stored query crop."""
        with self._connect() as db:
            row = db.execute("SELECT crop_png FROM queries WHERE id = ?", (query_id,)).fetchone()
        if row is None:
            raise KeyError(f"No feedback query {query_id}")
        return Image.open(io.BytesIO(row[0])).convert("RGB")

    def review_table(self) -> pd.DataFrame:
        """Every mark with its query's details, newest change first (one row per query x product).

        Columns: query_id, product_id, verdict ("" when only chosen), chosen (bool), rank, score, updated (UTC
        timestamp), who (the curator), created (UTC timestamp), source, box, embedding. Crops are not included:
        see `crops`.
        """
        with self._connect() as db:
            table = pd.read_sql_query(REVIEW_SQL, db)
        table["verdict"] = table["verdict"].fillna("")
        table["chosen"] = table["chosen"].astype(bool)
        table["rank"] = table["rank"].astype("Int64")
        table["score"] = table["score"].astype(float)
        for column in ("updated", "created"):
            table[column] = pd.to_datetime(table[column], unit="s", utc=True)
        return table

    def crops(self, query_ids) -> dict[int, bytes]:
        """Stored PNG bytes of the given queries' crops (unknown ids are left out)."""
        wanted = sorted({int(q) for q in query_ids})
        found: dict[int, bytes] = {}
        with self._connect() as db:
            for start in range(0, len(wanted), 500):  # SQLite's bound-parameter limit
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(f"SELECT id, crop_png FROM queries WHERE id IN ({marks})", chunk).fetchall()
                found.update((int(q), bytes(data)) for q, data in rows)
        return found

    def triplets(self) -> list[tuple[int, str, str]]:
        """(query_id, positive product, negative product) for every positive x negative pair of each query."""
        by_query: dict[int, tuple[list[str], list[str]]] = {}
        for mark in self.marks():
            positives, negatives = by_query.setdefault(mark.query_id, ([], []))
            if mark.positive:
                positives.append(mark.product_id)
            elif mark.verdict == NOT_SIMILAR:
                negatives.append(mark.product_id)
        return [(q, p, n) for q, (pos, neg) in by_query.items() for p in pos for n in neg]


def _check_verdict(verdict: str | None) -> None:
    """Raise ValueError unless `verdict` is one of VERDICTS or None."""
    if verdict is not None and verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS} or None, not {verdict!r}")


def _add_query(db: sqlite3.Connection, crop: Image.Image, source: str, box, embedding: str) -> int:
    """Insert a query crop unless stored already; its id."""
    data, sha1 = _png(crop)
    box_text = "" if box is None else ",".join(f"{float(v):.1f}" for v in box)
    db.execute(
        "INSERT OR IGNORE INTO queries (created, crop_sha1, crop_png, source, box, embedding) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (time.time(), sha1, data, source, box_text, embedding),
    )
    return int(db.execute("SELECT id FROM queries WHERE crop_sha1 = ?", (sha1,)).fetchone()[0])


def _mark(db: sqlite3.Connection, rows: list[tuple], who: str) -> None:
    """Upsert (query_id, product_id, verdict, rank, score) rows by `who`; rank and score are kept when None."""
    now = time.time()
    db.executemany(
        "INSERT INTO marks (query_id, product_id, verdict, rank, score, updated, who) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (query_id, product_id) DO UPDATE SET verdict = excluded.verdict, "
        "rank = COALESCE(excluded.rank, rank), score = COALESCE(excluded.score, score), updated = excluded.updated, "
        "who = excluded.who",
        [(*row, now, who) for row in rows],
    )


def _choose(db: sqlite3.Connection, query_id: int, product_id: str | None, who: str) -> None:
    """Clear the query's chosen pair, then set it to `product_id` (when not None), by `who`."""
    db.execute("UPDATE marks SET chosen = 0 WHERE query_id = ?", (query_id,))
    if product_id is not None:
        db.execute(
            "INSERT INTO marks (query_id, product_id, chosen, updated, who) VALUES (?, ?, 1, ?, ?) "
            "ON CONFLICT (query_id, product_id) DO UPDATE SET chosen = 1, updated = excluded.updated, "
            "who = excluded.who",
            (query_id, product_id, time.time(), who),
        )


def _png(crop: Image.Image) -> tuple[bytes, str]:
    """PNG bytes of a crop and their sha1 (the query's identity)."""
    buffer = io.BytesIO()
    crop.convert("RGB").save(buffer, "PNG")
    data = buffer.getvalue()
    return data, hashlib.sha1(data).hexdigest()
