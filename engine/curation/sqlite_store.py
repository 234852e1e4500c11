"""A small SQLite file next to an index: one short-lived connection, and one transaction, per call."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SQLiteStore:
    """Base of the curator stores: `INDEX_DIR/<filename>`, created with `schema` on first use.

    Every call opens its own connection, committed on success and rolled back on error (all of it or
    nothing), so one store object can be shared by Streamlit's threads and by several processes.
    """

    filename = "store.sqlite"
    schema = ""
    added_columns: tuple[tuple[str, str, str], ...] = ()  # (table, column, declaration) added since the first schema

    def __init__(self, index_dir: str | Path):
        self.path = Path(index_dir) / self.filename
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(self.schema)
            _add_missing_columns(db, self.added_columns)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection committed on success, rolled back on error, always closed."""
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA foreign_keys = ON")
        try:
            with db:
                yield db
        finally:
            db.close()


def _add_missing_columns(db: sqlite3.Connection, columns: tuple[tuple[str, str, str], ...]) -> None:
    """Bring a file made by an older version up to date: add each (table, column, declaration) it lacks."""
    for table, column, declaration in columns:
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
