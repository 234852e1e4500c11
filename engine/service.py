"""The loaded resources of a search service, bundled: detector + embedding config + catalogue index."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from engine.curation.catalogue_files import ImageFiles
from engine.detection.detector import Analysis, Detector, DetectorConfig, is_model_yaml
from engine.embedding import Embedder, EmbeddingConfig, make_embedder
from engine.files import file_sha256
from engine.images import load_image
from engine.index.backends import load_index, load_manifest
from engine.index.manifest import IndexMismatchError, check_compatible
from engine.index.protocol import VectorIndex
from engine.search.products import Match, SearchFilters
from engine.search.query import COPY_CANDIDATES, PRODUCT_PHOTO, default_query_box, promote_copy
from engine.search.refine import Refinement, refined_search
from engine.search.rerank import QueryKind, RankingConfig, kind_of_box, kind_of_category, product_entry, search_on_topic
from engine.settings import detector_replicas, index_mmap, query_detection
from engine.thumbnails import THUMB_SIDE, Thumbnails, thumbnail_jpeg
from engine.trusted_models import recorded_detector, recorded_head


@dataclass
class Lookalike:
    """Everything a query needs, loaded once and shared (the Streamlit app caches one per process)."""

    detector: Detector
    embedder: Embedder
    index: VectorIndex  # CatalogIndex (FAISS files), or MilvusCatalogIndex ($LOOKALIKE_INDEX_BACKEND=milvus)
    index_dir: Path
    ranking: RankingConfig = dataclasses.field(default_factory=RankingConfig)  # how the query's class steers

    @property
    def embedding(self) -> EmbeddingConfig:
        """The embedding config in use (the index was built with the same)."""
        return self.embedder.config

    @property
    def images_root(self) -> Path:
        """Folder that catalogue `image` paths are relative to (except managed ones, see `image_path`)."""
        return Path(self.index.manifest["images_root"])

    @property
    def image_files(self) -> ImageFiles:
        """The catalogue's two image folders: the one it was built from, and the managed one of the index."""
        return ImageFiles.of_index(self.images_root, self.index_dir)

    def image_path(self, image: str) -> Path:
        """The file of a catalogue `image` value (an uploaded product's photo lies in the managed folder)."""
        return self.image_files.path(image)

    @property
    def thumbnails(self) -> Thumbnails:
        """The product thumbnails the catalogue build stored beside the index."""
        return Thumbnails.of_index(self.index_dir)

    def thumbnail(self, image: str, content_hash: str = "", side: int = THUMB_SIDE) -> bytes:
        """JPEG bytes of a catalogue photo at most `side` pixels on a side, for result tiles.

        The thumbnail stored at build time when there is one (`content_hash` names it), else made from the
        photo; raises `ImageLoadError` or `OSError` when the photo cannot be read.
        """
        stored = self.thumbnails.jpeg(content_hash) if side <= THUMB_SIDE else None
        if stored is not None and side == THUMB_SIDE:
            return stored
        return thumbnail_jpeg(load_image(stored if stored is not None else self.image_path(image)), side)

    def warm_up(self) -> None:
        """Run one query on a blank photo, so that the first shopper's click does not pay the networks' first-call
        cost (about a second on CPU: memory allocation, kernel selection) or the index's first page-in."""
        analysis = self.analyse(Image.new("RGB", (640, 480), (128, 128, 128)))
        self.search_box(analysis, (160.0, 120.0, 480.0, 360.0), k=1)

    def analyse(self, image: Image.Image) -> Analysis:
        """Detect objects and keep the feature maps: the single forward pass of a query."""
        return self.detector.analyse([image])[0]

    def embed(self, analysis: Analysis, box) -> np.ndarray:
        """(D,) unit vector for one xyxy box (detected or drawn) of an analysed image."""
        return self.embedder.embed(analysis, np.asarray(box, dtype=np.float32).reshape(1, 4))[0]

    def search(
        self, vector: np.ndarray, k: int = 10, filters: SearchFilters | None = None, kind: QueryKind | None = None
    ) -> list[Match]:
        """Top-k distinct products for a query vector; `kind` (the query's class) re-ranks them (`rerank`)."""
        return search_on_topic(self.index, vector, k, filters, kind, self.ranking)

    def box_kind(self, analysis: Analysis, box) -> QueryKind | None:
        """The query class of a box: the class of the detection it overlaps best, if any (a drawn box may have none)."""
        return kind_of_box(analysis.detections, tuple(float(v) for v in box), self.ranking)

    def search_box(self, analysis: Analysis, box, k: int = 10, filters: SearchFilters | None = None) -> list[Match]:
        """Embed a box of an analysed image and search the catalogue with it, steered by the box's class."""
        return self.search(self.embed(analysis, box), k, filters, self.box_kind(analysis, box))

    def search_box_refined(
        self, analysis: Analysis, box, k: int, refinement: Refinement, filters: SearchFilters | None = None
    ) -> list[Match]:
        """`search_box` narrowed by words ("green velvet under 2000", `engine.search.refine.parse_refinement`):
        among a wider pool of visual matches, still steered by the box's class."""
        vector, kind = self.embed(analysis, box), self.box_kind(analysis, box)
        return refined_search(self.index, vector, k, refinement, self.images_root, filters, True, kind, self.ranking)

    def search_photo(
        self, analysis: Analysis, k: int = 10, filters: SearchFilters | None = None
    ) -> tuple[list[Match], tuple[float, ...], str]:
        """The default search of a photo when nobody chose a box: (matches, box searched, why that box).

        A product shot is searched whole, and a catalogue photo it is a copy of comes first
        (`engine.search.query.promote_copy`); a room photo is searched by its largest detection.
        """
        box, why = default_query_box(analysis.image, analysis.detections)
        if not why.startswith(PRODUCT_PHOTO):
            return self.search_box(analysis, box, k, filters), box, why
        matches = self.search_box(analysis, box, max(k, COPY_CANDIDATES), filters)
        return promote_copy(analysis.image, matches, self.image_path)[:k], box, why

    def product_vector(self, product_id: str) -> np.ndarray:
        """The stored vector of a catalogue product: its curated box, else its main object (`main_entry`), else its
        whole photo."""
        rows = self.index.meta[self.index.meta["product_id"] == product_id]
        if rows.empty:
            raise KeyError(f"Unknown product '{product_id}'")
        return self.index.vectors(np.array([product_entry(rows)]))[0]

    def search_product(self, product_id: str, k: int = 10, filters: SearchFilters | None = None) -> list[Match]:
        """Products like a catalogue product (itself excluded), its category's kind first ("like KLIPPAN")."""
        filters = filters or SearchFilters()
        filters = dataclasses.replace(filters, exclude_products=(*filters.exclude_products, product_id))
        rows = self.index.meta[self.index.meta["product_id"] == product_id]
        category = "" if rows.empty else str(rows["category"].fillna("").iloc[0])
        return self.search(self.product_vector(product_id), k, filters, kind_of_category(category, self.ranking))


def load(
    index_dir: str | Path,
    weights: str | Path | None = None,
    embedding: EmbeddingConfig | None = None,
    device: str = "cpu",
    mmap: bool | None = None,
    replicas: int | None = None,
) -> Lookalike:
    """Load an index and the detector it was built with; refuse a mismatch.

    `weights` defaults to the trusted checkpoint with the sha256 the manifest records (`engine.trusted_models`:
    models/, $LOOKALIKE_TRUSTED_MODELS, $LOOKALIKE_WEIGHTS; never a path the index names); `embedding` defaults
    to the manifest's config, its head found the same way. Query photos are detected with the manifest's detector
    config except for confidence and detection cap, which come from `engine.settings.query_detection()`.
    Raises `IndexNotFoundError` when no index is built and `IndexMismatchError` when the weights or embedding
    config differ from the ones the index was built with, or are not trusted (`UntrustedModelError`); a
    checkpoint file's sha256 is checked before it is loaded, and it is unpickled with Ultralytics' safe loader.
    `replicas` detector copies serve concurrent queries (default `engine.settings.detector_replicas()`: 2).
    `mmap` maps the index read-only (default: `$LOOKALIKE_INDEX_MMAP`, else by size, see `CatalogIndex.load`).
    The backend (FAISS files or Milvus) comes from `$LOOKALIKE_INDEX_BACKEND` (`engine.index.backends`).
    """
    manifest = load_manifest(index_dir)
    built = manifest["detector"]
    weights = weights or recorded_weights(built)
    check_weights_file(weights, built)
    config = dataclasses.replace(DetectorConfig(**built["config"]), **query_detection())
    detector = Detector(weights, config, device=device, replicas=replicas or detector_replicas())
    embedding = embedding or recorded_embedding(manifest)
    check_index(manifest, detector, embedding)
    embedder = make_embedder(embedding, detector, queries=True)
    index = load_index(index_dir, mmap=index_mmap() if mmap is None else mmap)
    return Lookalike(detector, embedder, index, Path(index_dir))


def check_index(manifest: dict, detector: Detector, embedding: EmbeddingConfig) -> None:
    """Raise `IndexMismatchError` unless the index was built with this detector and embedding config."""
    built_with = EmbeddingConfig.from_dict(manifest["embedding"]).to_dict()  # fills fields added since
    built_with.pop("head")  # a head is identified by its sha256, wherever its file lies
    wanted = {k: v for k, v in embedding.to_dict().items() if k != "head"}
    check_compatible({**manifest, "embedding": built_with}, detector.weights_sha256, wanted)


def check_weights_file(weights: str | Path, built: dict) -> None:
    """Refuse a checkpoint file whose sha256 is not the index's, before anything unpickles it."""
    if is_model_yaml(weights) or not Path(weights).is_file():
        return  # a yaml is fingerprinted from its parsed content; an official name downloads, checked after
    sha = file_sha256(weights)
    if sha != built.get("weights_sha256"):
        raise IndexMismatchError(
            f"The index was built with detector weights '{built.get('weights')}' "
            f"(sha256 {str(built.get('weights_sha256'))[:12]}…), but '{weights}' has sha256 {sha[:12]}…; "
            "it was not loaded. Rebuild the index or load the same weights."
        )


def recorded_weights(built: dict) -> str:
    """The manifest's detector, found among the trusted checkpoints by its sha256 (`UntrustedModelError` if none)."""
    return recorded_detector(built)


def recorded_embedding(manifest: dict) -> EmbeddingConfig:
    """The manifest's embedding config, its head (if any) the trusted file with the recorded sha256."""
    embedding = EmbeddingConfig.from_dict(manifest["embedding"])
    if not embedding.head:
        return embedding
    return dataclasses.replace(embedding, head=recorded_head(embedding.head, embedding.head_sha256))
