"""The catalogue index: vectors plus product metadata behind one interface, on FAISS files (default) or Milvus.

index = load_index("indexes/ikea-rooms")          # the backend the settings choose
scores, rows = index.search(vectors, k)            # numpy in, numpy out
"""

from engine.index.backends import index_class, load_index, load_manifest
from engine.index.store import CatalogIndex, IndexMismatchError, IndexNotFoundError, check_compatible

__all__ = [
    "CatalogIndex",
    "IndexMismatchError",
    "IndexNotFoundError",
    "check_compatible",
    "index_class",
    "load_index",
    "load_manifest",
]
