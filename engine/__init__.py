"""Lookalike engine: detect objects, embed any box from the detector's own feature maps, search a FAISS catalogue.

The public API is small::

    import engine
    service = engine.load("indexes/ikea-rooms")          # detector + index, checked against each other
    image = engine.load_image("room.jpg")                 # safe decode, or ImageLoadError
    analysis = service.analyse(image)                     # one forward pass: boxes + feature maps
    matches = service.search_box(analysis, analysis.detections[0].box, k=10)

This package never imports Streamlit.
"""

from engine.detection.detector import Analysis, Detection, Detector, DetectorConfig
from engine.embedding import EmbeddingConfig, embed_boxes
from engine.images import ImageLoadError, load_image
from engine.index.manifest import IndexMismatchError
from engine.index.store import CatalogIndex, IndexNotFoundError
from engine.search.products import Match, SearchFilters, search_products
from engine.service import Lookalike, load

__all__ = [
    "Analysis",
    "CatalogIndex",
    "Detection",
    "Detector",
    "DetectorConfig",
    "EmbeddingConfig",
    "ImageLoadError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "Lookalike",
    "Match",
    "SearchFilters",
    "embed_boxes",
    "load",
    "load_image",
    "search_products",
]
