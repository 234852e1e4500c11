"""Object embeddings: any box of an analysed image -> a unit vector, by the method an `EmbeddingConfig` names.

embedder = make_embedder(EmbeddingConfig(), detector)   # the config's method, then its head if set
vectors = embedder.embed(analysis, boxes)                # (N, 4) source-pixel boxes -> (N, D) float32
"""

from engine.embedding.base import (
    DEFAULT_EMBEDDING,
    ROI_EMBEDDING,
    Embedder,
    EmbeddingConfig,
    embed_many,
    resolve_head_path,
    split_rows,
)
from engine.embedding.feature_maps import embed_boxes, embedding_dim
from engine.embedding.head import HeadError
from engine.embedding.registry import EMBEDDERS, make_embedder

__all__ = [
    "DEFAULT_EMBEDDING",
    "EMBEDDERS",
    "ROI_EMBEDDING",
    "Embedder",
    "EmbeddingConfig",
    "HeadError",
    "embed_boxes",
    "embed_many",
    "embedding_dim",
    "make_embedder",
    "resolve_head_path",
    "split_rows",
]
