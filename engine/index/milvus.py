"""The catalogue index in Milvus: the `CatalogIndex` interface over a Milvus collection (Lite file or server).

Layout in Milvus, for a catalogue named `NAME` (`engine.settings.milvus_collection`)::

    alias NAME                     -> the live collection (switched atomically by a full build)
    collection NAME__v<time>       id (primary key), vector, f_product, f_category, f_price (filters), meta (JSON)
    collection NAME__v<time>__m    one row: the JSON manifest (weights sha, embedding config, index, columns)

A full build (`from_vectors` + `save`) writes a new collection and its manifest, then moves the alias: a writer
killed before that leaves the previous collection live. `add` and `remove` change the live collection in
place (Milvus logs them); `save` then rewrites the manifest row. Category, price and excluded products are
pushed down as Milvus filter expressions (`pushes_filters`). Index types come from the same factory strings
as FAISS (`milvus_index_spec`): `Flat` -> FLAT, `IVF1024,SQ8` -> IVF_SQ8, `HNSW32` -> HNSW, ...
"""

from __future__ import annotations

import contextlib
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from engine.index.factories import choose_factory, default_params
from engine.index.manifest import Manifest, manifest_json, refreshed
from engine.index.milvus_client import (
    connect,
    disconnect,
    milvus_index_spec,
    open_live,
    read_manifest_row,
    switch_alias,
)
from engine.settings import milvus_collection

MAX_TOPK = 16_384  # Milvus's largest search limit
BATCH = 2_000  # rows per insert / get / delete call
TEXT_MAX = 8_192  # max_length of the VARCHAR filter fields


class MilvusCatalogIndex:
    """Vectors, metadata and manifest of a catalogue in Milvus, with the `engine.index.store.CatalogIndex` methods.

    Built by `from_vectors` (held in memory until `save` writes a new collection) or opened by `load`.
    """

    pushes_filters = True  # `search(..., filter=)` takes a Milvus boolean expression
    read_only = False

    def __init__(self, manifest: Manifest, pending=None, client=None, collection: str = "") -> None:
        self.manifest = manifest
        self._pending = pending  # (vectors, meta) still to be written as a new collection
        self._client = client
        self._collection = collection
        self._meta: pd.DataFrame | None = _indexed(pending[1]) if pending else None
        self._count = len(pending[1]) if pending else self._query_count()

    @classmethod
    def from_vectors(cls, vectors, meta: pd.DataFrame, manifest: Manifest, factory=None, params=None):
        """Index (N, D) unit vectors with their N metadata rows (int64 `id` column); written by `save`."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(meta), int(manifest["dim"]))
        factory = factory or choose_factory(len(vectors))
        milvus_index_spec(factory, {})  # fail early on a factory Milvus cannot build
        made = cls({**manifest, "index_auto": manifest.get("index_auto", True)}, pending=(vectors, meta))
        made.manifest["index"] = {"kind": "Milvus", "factory": factory, "params": {**default_params(factory)}}
        made.set_params(params or {})
        made.manifest["max_id"] = int(meta["id"].max()) if len(meta) else -1
        return made

    @classmethod
    def load(cls, index_dir: str | Path, mmap: bool | None = None) -> MilvusCatalogIndex:
        """Open the live collection of the catalogue (`mmap` does not apply to Milvus)."""
        client, live = open_live(index_dir)
        return cls(read_manifest_row(client, live), client=client, collection=live)

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self.manifest["dim"])

    @property
    def factory(self) -> str:
        """The factory string the Milvus index was made from (e.g. `IVF1024,SQ8`)."""
        return self.manifest["index"]["factory"]

    @property
    def next_id(self) -> int:
        """The smallest id never used by this catalogue."""
        return int(self.manifest.get("max_id", -1)) + 1

    @property
    def tombstone_fraction(self) -> float:
        """Always 0: Milvus deletes (and compacts) by itself."""
        return 0.0

    @property
    def meta(self) -> pd.DataFrame:
        """Every metadata row, by id (read from Milvus once, on first use)."""
        if self._meta is None:
            rows = []
            iterator = self._client.query_iterator(self._collection, batch_size=BATCH, output_fields=["id", "meta"])
            while batch := iterator.next():
                rows += batch
            iterator.close()
            self._meta = self._frame(rows)
        return self._meta

    def __len__(self) -> int:
        return int(self._count)

    def search(self, queries: np.ndarray, k: int, filter: str = "") -> tuple[np.ndarray, np.ndarray]:  # noqa: A002
        """(Q, D) queries -> (Q, k) inner-product scores and ids, best first, -1 where fewer pass `filter`."""
        self._check_saved()
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, MAX_TOPK, max(len(self), 1)))
        _, _, search = milvus_index_spec(self.factory, self.manifest["index"]["params"])
        search = {key: value for key, value in search.items() if value is not None}
        if "ef" in search:
            search["ef"] = max(int(search["ef"]), k)
        hits = self._client.search(
            self._collection, data=list(queries), limit=k, filter=filter, anns_field="vector",
            search_params={"metric_type": "IP", "params": search}, output_fields=[],
        )  # fmt: skip
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        for row, found in enumerate(hits):
            ids[row, : len(found)] = [hit["id"] for hit in found]
            scores[row, : len(found)] = [hit["distance"] for hit in found]
        return scores, ids

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Stored (N, D) vectors for the given ids, in that order."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if self._pending:
            rows = pd.Index(self._pending[1]["id"].to_numpy(np.int64)).get_indexer(ids)
            return self._pending[0][rows]
        found = {}
        for chunk in _chunks(ids.tolist()):
            found.update((r["id"], r["vector"]) for r in self._client.get(self._collection, chunk, ["vector"]))
        return np.array([found[i] for i in ids.tolist()], dtype=np.float32).reshape(len(ids), self.dim)

    def rows(self, ids: np.ndarray, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Metadata rows for ids, in the order given (read from Milvus unless all metadata is loaded); only
        `columns` (those the metadata has) when given."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if self._meta is not None or not len(ids):
            frame = self.meta.loc[ids]
        else:
            found = self._client.get(self._collection, list(dict.fromkeys(ids.tolist())), ["id", "meta"])
            frame = self._frame(found).loc[ids]
        return frame if columns is None else frame[[c for c in columns if c in frame.columns]]

    def add(self, vectors: np.ndarray, meta: pd.DataFrame) -> None:
        """Insert N vectors with their N rows; ids must be new and at least `next_id`."""
        if not len(meta):
            return
        ids = meta["id"].to_numpy(np.int64)
        if len(ids) != len(np.unique(ids)) or ids.min() < self.next_id:
            raise ValueError("add() needs new, distinct ids from next_id on")
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        self.manifest["max_id"] = int(ids.max())
        if self._pending:
            self._pending = (np.concatenate([self._pending[0], vectors]), pd.concat([self._pending[1], meta]))
        else:
            self._write_manifest(self._collection)  # the new max_id first: ids stay unique after a crash
            self._insert(self._collection, vectors, meta)
        if self._meta is not None:
            self._meta = _indexed(pd.concat([self._meta, meta], ignore_index=True))
        self._count += len(ids)

    def remove(self, ids: np.ndarray) -> None:
        """Delete ids (unknown ones are ignored)."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if not len(ids):
            return
        if self._pending:
            keep = ~self._pending[1]["id"].isin(ids).to_numpy()
            self._pending = (self._pending[0][keep], self._pending[1][keep])
        else:
            for chunk in _chunks(ids.tolist()):
                self._client.delete(self._collection, ids=chunk)
        if self._meta is not None:
            self._meta = self._meta.drop(index=np.intersect1d(ids, self._meta.index.to_numpy()))
        self._count = len(self._pending[1]) if self._pending else self._query_count()

    def replace_meta(self, meta: pd.DataFrame) -> None:
        """New metadata for exactly the same ids; only rows whose values changed are rewritten."""
        if set(meta["id"]) != set(self.meta["id"]) or len(meta) != len(self.meta):
            raise ValueError("replace_meta() must keep the same ids")
        meta = _indexed(meta.astype({"id": np.int64}))
        if self._pending:
            self._pending = (self._pending[0], meta.loc[self._pending[1]["id"].to_numpy(np.int64)])
        else:
            old = dict(zip(self.meta["id"].tolist(), _json_rows(self.meta)))
            changed = [i for i, row in zip(meta["id"].tolist(), _json_rows(meta)) if old[i] != row]
            for chunk in _chunks(changed):
                self._insert(self._collection, self.vectors(np.array(chunk)), meta.loc[chunk], upsert=True)
        self._meta = meta

    def set_params(self, params: dict) -> None:
        """Override search (efSearch, nprobe) or build (efConstruction) parameters."""
        self.manifest["index"]["params"].update(params)

    def compact(self, retrain: bool = False, factory: str | None = None, params: dict | None = None) -> None:
        """Milvus compacts deletes itself; a new `factory` (or `retrain`) rebuilds into a new collection on save."""
        if (factory and factory != self.factory) or retrain:
            ids = self.meta["id"].to_numpy(np.int64)
            rebuilt = self.from_vectors(self.vectors(ids), self.meta, self.manifest, factory or self.factory)
            self._pending, self.manifest = rebuilt._pending, rebuilt.manifest
            self.manifest["index_auto"] = self.manifest.get("index_auto", True) and not factory
        elif not self._pending:
            self._client.compact(self._collection)
        self.set_params(params or {})

    def save(self, index_dir: str | Path) -> str:
        """Commit: write a pending build as a new collection and move the alias to it, else rewrite the manifest."""
        if self._pending is None:
            self._write_manifest(self._collection)
            return self._collection
        alias = milvus_collection(index_dir)
        self._client = self._client or connect(index_dir)
        collection = f"{alias}__v{time.strftime('%Y%m%dT%H%M%S')}_{time.time_ns() % 10**9:09d}"
        self._create(collection)
        self._insert(collection, *self._pending)
        self._client.flush(collection)
        self._write_manifest(collection)
        switch_alias(self._client, alias, collection)  # the commit point
        self._pending, self._collection = None, collection
        self._count = self._query_count()
        return collection

    def close(self) -> None:
        """Let go of the Milvus connection (Milvus Lite allows one process per database file)."""
        if self._client is not None:
            disconnect(self._client)
            self._client = None

    def _create(self, collection: str) -> None:
        """An empty loaded collection with the vector index and the filter fields."""
        from pymilvus import DataType, MilvusClient

        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        schema.add_field("f_product", DataType.VARCHAR, max_length=TEXT_MAX)
        schema.add_field("f_category", DataType.VARCHAR, max_length=TEXT_MAX)
        schema.add_field("f_price", DataType.DOUBLE, nullable=True)
        schema.add_field("meta", DataType.JSON)
        kind, build, _ = milvus_index_spec(self.factory, self.manifest["index"]["params"])
        indexes = self._client.prepare_index_params()
        indexes.add_index(field_name="vector", index_type=kind, metric_type="IP", params=build)
        self._client.create_collection(
            collection, schema=schema, index_params=indexes, consistency_level="Strong"
        )  # fmt: skip
        self.manifest["index"].update(milvus_type=kind, milvus_build=build)

    def _insert(self, collection: str, vectors: np.ndarray, meta: pd.DataFrame, upsert: bool = False) -> None:
        """Write rows in batches (insert, or upsert to rewrite existing ids)."""
        write = self._client.upsert if upsert else self._client.insert
        rows = _json_rows(meta)
        price = pd.to_numeric(meta.get("price", pd.Series(np.nan, index=meta.index)), errors="coerce").tolist()
        for start in range(0, len(rows), BATCH):
            batch = []
            for i in range(start, min(start + BATCH, len(rows))):
                values, cost = rows[i], price[i]
                batch.append(
                    {
                        "id": int(meta["id"].iat[i]),
                        "vector": vectors[i],
                        "f_product": str(values.get("product_id") or "")[:TEXT_MAX],
                        "f_category": str(values.get("category") or "")[:TEXT_MAX],
                        "f_price": None if cost is None or math.isnan(cost) else float(cost),
                        "meta": values,
                    }
                )
            write(collection, batch)

    def _write_manifest(self, collection: str) -> None:
        """Refresh counts and column types, then (re)write the manifest row of a collection."""
        from pymilvus import DataType, MilvusClient

        meta = self._pending[1] if self._pending else self.meta
        self.manifest["index"].update(collection=collection, ntotal=len(meta), tombstones=0)
        refreshed(self.manifest, len(meta), self.manifest["index"], self.factory)
        self.manifest["meta_columns"] = {str(c): str(t) for c, t in meta.dtypes.items()}
        name = f"{collection}__m"
        if not self._client.has_collection(name):
            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=2)  # Milvus needs one; unused
            schema.add_field("manifest", DataType.VARCHAR, max_length=65_535)
            indexes = self._client.prepare_index_params()
            indexes.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
            self._client.create_collection(name, schema=schema, index_params=indexes, consistency_level="Strong")
        text = manifest_json(self.manifest)
        self._client.upsert(name, [{"id": 0, "vector": [0.0, 0.0], "manifest": text}])
        self._client.flush(name)

    def _frame(self, records: list[dict]) -> pd.DataFrame:
        """Metadata rows from Milvus records, with the manifest's columns and dtypes, sorted by id."""
        frame = pd.DataFrame([{"id": r["id"], **(r.get("meta") or {})} for r in records])
        columns = self.manifest.get("meta_columns", {"id": "int64"})
        frame = frame.reindex(columns=list(columns))
        for column, dtype in columns.items():
            with contextlib.suppress(TypeError, ValueError):
                frame[column] = frame[column].astype(dtype)
        return _indexed(frame.sort_values("id", kind="stable").reset_index(drop=True))

    def _query_count(self) -> int:
        """Live rows in the collection."""
        found = self._client.query(self._collection, filter="", output_fields=["count(*)"])
        return int(found[0]["count(*)"])

    def _check_saved(self) -> None:
        """Searching needs the collection: `save` a freshly built index first."""
        if self._pending is not None:
            raise RuntimeError("save() this Milvus index before searching it")


def _json_rows(meta: pd.DataFrame) -> list[dict]:
    """Metadata rows (all columns but id) as JSON-safe dicts: Python scalars, None for missing values."""
    values = meta.drop(columns=["id"]).astype(object)
    values = values.where(values.notna(), None)
    return [{str(k): _plain(v) for k, v in row.items()} for row in values.to_dict("records")]


def _plain(value):
    """A JSON-safe Python scalar."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def _indexed(meta: pd.DataFrame) -> pd.DataFrame:
    """Metadata indexed by id (the id column kept)."""
    return meta.astype({"id": np.int64}).set_index("id", drop=False).rename_axis(None)


def _chunks(items: list, size: int = BATCH):
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
