"""Where the catalogue index lives, chosen by one setting: FAISS files (default) or Milvus.

`$LOOKALIKE_INDEX_BACKEND=milvus` makes the app, `engine.load` and the catalogue builder use
`engine.index.milvus.MilvusCatalogIndex` (a Milvus Lite file in the index folder, or the server at
`$LOOKALIKE_MILVUS_URI`); otherwise `engine.index.store.CatalogIndex` (version folders of FAISS files).
"""

from __future__ import annotations

from pathlib import Path

from engine.index.manifest import Manifest
from engine.index.protocol import VectorIndex
from engine.index.store import CatalogIndex, read_manifest
from engine.settings import index_backend


def index_class(backend: str | None = None) -> type[VectorIndex]:
    """The index class of a backend ("faiss" or "milvus"; default: the setting)."""
    if (backend or index_backend()) == "milvus":
        from engine.index.milvus import MilvusCatalogIndex

        return MilvusCatalogIndex
    return CatalogIndex


def load_index(index_dir: str | Path, mmap: bool | None = False, backend: str | None = None) -> VectorIndex:
    """The live index of a catalogue (`mmap` applies to FAISS only)."""
    return index_class(backend).load(index_dir, mmap=mmap)


def load_manifest(index_dir: str | Path, backend: str | None = None) -> Manifest:
    """The live manifest of a catalogue, without loading its vectors."""
    if (backend or index_backend()) == "milvus":
        from engine.index.milvus_client import read_milvus_manifest

        return read_milvus_manifest(index_dir)
    return read_manifest(index_dir)
