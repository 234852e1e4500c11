"""Connections to Milvus (Lite file or server), the catalogue's alias, its manifest row, and index type mapping."""

from __future__ import annotations

import json
import re
from pathlib import Path

from engine.index.store import IndexNotFoundError
from engine.settings import milvus_collection, milvus_token, milvus_uri

NATIVE_TYPES = ("FLAT", "IVF_FLAT", "IVF_SQ8", "IVF_PQ", "HNSW", "HNSW_SQ", "DISKANN", "SCANN", "AUTOINDEX")
_LITE_CLIENTS: dict[str, int] = {}  # open clients per Milvus Lite file in this process


def milvus_index_spec(factory: str, params: dict) -> tuple[str, dict, dict]:
    """(Milvus index type, build params, search params) for a FAISS-style factory string or a Milvus type."""
    if factory in ("Flat", "FLAT"):
        return "FLAT", {}, {}
    if hnsw := re.fullmatch(r"HNSW(\d+)(?:[,_]SQ8)?", factory):
        build = {"M": int(hnsw.group(1)), "efConstruction": int(params.get("efConstruction", 100))}
        kind = "HNSW_SQ" if "SQ8" in factory else "HNSW"
        return kind, {**build, **({"sq_type": "SQ8"} if kind == "HNSW_SQ" else {})}, {"ef": params.get("efSearch")}
    if ivf := re.fullmatch(r"IVF(\d+),(Flat|SQ8|PQ(\d+)(?:np)?)", factory):
        kind = {"Flat": "IVF_FLAT", "SQ8": "IVF_SQ8"}.get(ivf.group(2), "IVF_PQ")
        build = {"nlist": int(ivf.group(1)), **({"m": int(ivf.group(3)), "nbits": 8} if ivf.group(3) else {})}
        return kind, build, {"nprobe": params.get("nprobe")}
    if factory in NATIVE_TYPES:
        search = {key: value for key, value in params.items() if key in ("ef", "nprobe", "search_list")}
        build = {key: value for key, value in params.items() if key not in search}
        return factory, build, search
    raise ValueError(f"no Milvus index for factory '{factory}' (use Flat, HNSW<M>[,SQ8], IVF<n>,Flat|SQ8|PQ<m>)")


def connect(index_dir: str | Path):
    """A Milvus client for the catalogue of `index_dir` (Milvus Lite when the URI is a file)."""
    try:
        from pymilvus import MilvusClient
    except ImportError as err:
        raise ModuleNotFoundError(
            "LOOKALIKE_INDEX_BACKEND=milvus needs the optional scale-out packages: "
            "pip install -r requirements-scale.txt (or scripts/setup.sh --scale)"
        ) from err

    uri = milvus_uri(index_dir)
    if "://" not in uri:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        _LITE_CLIENTS[uri] = _LITE_CLIENTS.get(uri, 0) + 1
    client = MilvusClient(uri=uri, token=milvus_token())
    client.lookalike_uri = uri
    return client


def disconnect(client) -> None:
    """Close a client; the last one of a Milvus Lite file also stops its in-process server (and file lock)."""
    client.close()
    uri = client.lookalike_uri
    if uri in _LITE_CLIENTS:
        _LITE_CLIENTS[uri] -= 1
        if _LITE_CLIENTS[uri] <= 0:
            del _LITE_CLIENTS[uri]
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(uri)


def read_milvus_manifest(index_dir: str | Path) -> dict:
    """The manifest of the live collection, without reading vectors."""
    client, live = open_live(index_dir)
    try:
        return read_manifest_row(client, live)
    finally:
        disconnect(client)


def open_live(index_dir: str | Path):
    """(client, live collection name) with the collection loaded; `IndexNotFoundError` when absent."""
    alias = milvus_collection(index_dir)
    client = connect(index_dir)
    if alias not in client.list_aliases().get("aliases", []):
        disconnect(client)
        raise IndexNotFoundError(
            f"No catalogue '{alias}' in Milvus at {milvus_uri(index_dir)}. Build one with:\n"
            f"  LOOKALIKE_INDEX_BACKEND=milvus python scripts/build_catalog.py --images DIR --out {index_dir}"
        )
    live = client.describe_alias(alias)["collection_name"]
    client.load_collection(live)
    client.load_collection(f"{live}__m")
    return client, live


def read_manifest_row(client, collection: str) -> dict:
    """The JSON manifest stored beside a collection."""
    rows = client.query(f"{collection}__m", filter="id == 0", output_fields=["manifest"])
    return json.loads(rows[0]["manifest"])


def switch_alias(client, alias: str, collection: str) -> None:
    """Point the alias at `collection` (atomically) and drop collections older than the previous one."""
    previous = None
    if alias in client.list_aliases().get("aliases", []):
        previous = client.describe_alias(alias)["collection_name"]
        client.alter_alias(collection, alias)
    else:
        client.create_alias(collection, alias)
    ours = sorted(c for c in client.list_collections() if c.startswith(f"{alias}__v") and not c.endswith("__m"))
    for old in ours:
        if old not in (collection, previous) and old < collection:  # newer ones: another writer's, in progress
            client.drop_collection(old)
            if client.has_collection(f"{old}__m"):
                client.drop_collection(f"{old}__m")
