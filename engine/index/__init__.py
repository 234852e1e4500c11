"""The catalogue index: vectors plus product metadata behind one interface, on FAISS files (default) or Milvus.

index = load_index("indexes/ikea-rooms")          # the backend the settings choose
scores, rows = index.search(vectors, k)            # numpy in, numpy out
"""

from engine.index.backends import index_class, load_index, load_manifest
from engine.index.manifest import IndexMismatchError, Manifest, check_compatible
from engine.index.protocol import VectorIndex
from engine.index.store import CatalogIndex, IndexBusyError, IndexNotFoundError, current_version

__all__ = [
    "CatalogIndex",
    "Manifest",
    "VectorIndex",
    "IndexBusyError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "check_compatible",
    "current_version",
    "index_class",
    "load_index",
    "load_manifest",
]
