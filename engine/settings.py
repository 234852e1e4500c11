"""Default locations, overridable by environment variables (no Streamlit, no side effects)."""

from __future__ import annotations

import os
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TRAINED_DETECTOR = PROJECT_ROOT / "models" / "furniture-yolov8n.pt"  # fine-tuned from COCO YOLOv8n (AGPL-3.0)
RANDOM_DETECTOR = "yolo11n.yaml"
QUERY_CONF = 0.01  # best recall on held-out real rooms (BENCHMARKS.md); the few distinct boxes are drawn
DETECTOR_REPLICAS = 2  # `lookalike bench detector-pool`: 1 -> 2 copies, p95 797 -> 529 ms; 3 no better
QUERY_MAX_DET = 25  # the budget of objects per room photo
# head-lite0.pt blended with its centred Lite0 vector at 288 px (`lookalike blend-head`); head-lite0.pt alone and
# head-effnet.pt (the old input) stay for the indexes built with them
TRAINED_HEAD = PROJECT_ROOT / "models" / "head-lite0-blend.pt"
CATALOG_VIEWS = 0  # gallery views per catalogue photo by default: opt-in, they do not pay on real rooms (BENCHMARKS.md)


def default_weights() -> str:
    """$LOOKALIKE_WEIGHTS, else the project's trained detector when present, else random yolo11n weights."""
    if os.environ.get("LOOKALIKE_WEIGHTS"):
        return os.environ["LOOKALIKE_WEIGHTS"]
    return str(TRAINED_DETECTOR) if TRAINED_DETECTOR.is_file() else RANDOM_DETECTOR


def default_index_dir() -> Path:
    """$LOOKALIKE_INDEX, else the default demo's index folder (indexes/ikea-rooms)."""
    return Path(os.environ["LOOKALIKE_INDEX"]) if os.environ.get("LOOKALIKE_INDEX") else demo_index_dir(DEFAULT_DEMO)


def index_mmap() -> bool | None:
    """$LOOKALIKE_INDEX_MMAP: 1 maps the index files read-only (shared between processes), 0 copies them into
    each process, unset or "auto" maps files of at least `engine.index.store.MMAP_MIN_BYTES`."""
    value = os.environ.get("LOOKALIKE_INDEX_MMAP", "auto").strip().lower()
    return None if value in ("", "auto") else value in ("1", "true", "yes", "on")


def shared_data_dir() -> Path:
    """$LOOKALIKE_DATA, else ../shared/data beside the project (the IKEA catalogues)."""
    return Path(os.environ.get("LOOKALIKE_DATA", PROJECT_ROOT.parent / "shared" / "data"))


DEMO_CATALOGS = {  # name -> what a shopper is told about it; each has its own index folder indexes/NAME
    "ikea-rooms": "2,292 IKEA products and 103 real room photos to try (no prices or links)",
    "ikea-catalog": "1,380 IKEA products in 6 categories, with prices and links",
}
DEFAULT_DEMO = "ikea-rooms"


def demo_catalog_dir(name: str = DEFAULT_DEMO) -> Path:
    """The demo catalogue's data folder: $LOOKALIKE_DEMO_DATA for the default demo, else shared data/NAME."""
    if name == DEFAULT_DEMO and os.environ.get("LOOKALIKE_DEMO_DATA"):
        return Path(os.environ["LOOKALIKE_DEMO_DATA"])
    return shared_data_dir() / name


def indexes_dir() -> Path:
    """$LOOKALIKE_INDEXES, else indexes/ in the project: where the app keeps (and builds) catalogue indexes."""
    return Path(os.environ.get("LOOKALIKE_INDEXES", PROJECT_ROOT / "indexes"))


def demo_index_dir(name: str) -> Path:
    """Where the app keeps the index of a demo catalogue: indexes/NAME."""
    return indexes_dir() / name


def catalog_choices(built_only: bool = False) -> dict[str, Path]:
    """The catalogues the app offers, name -> index folder.

    With $LOOKALIKE_INDEX set, only that index (a deployment, or a test). Otherwise the demo catalogues whose
    data is present (built or not: the app builds a missing one; only built ones with `built_only`, as a shop
    that never builds offers) and any other index under indexes/.
    """
    if os.environ.get("LOOKALIKE_INDEX"):
        chosen = default_index_dir()
        return {chosen.name or str(chosen): chosen}
    choices = {
        name: demo_index_dir(name)
        for name in DEMO_CATALOGS
        if (demo_catalog_dir(name) / "products.csv").is_file()
        and (not built_only or (demo_index_dir(name) / "CURRENT").is_file())
    }
    built = sorted(p.parent for p in indexes_dir().glob("*/CURRENT"))
    return choices | {p.name: p for p in built if p.name not in choices} or {DEFAULT_DEMO: default_index_dir()}


def sample_rooms_dir() -> Path:
    """Room photos offered as samples in the app."""
    return demo_catalog_dir() / "rooms"


def index_backend() -> str:
    """$LOOKALIKE_INDEX_BACKEND: "faiss" (default: files in the index folder) or "milvus"."""
    backend = os.environ.get("LOOKALIKE_INDEX_BACKEND", "faiss").strip().lower() or "faiss"
    if backend not in ("faiss", "milvus"):
        raise ValueError(f"LOOKALIKE_INDEX_BACKEND must be 'faiss' or 'milvus', not '{backend}'")
    return backend


def milvus_uri(index_dir: str | Path) -> str:
    """$LOOKALIKE_MILVUS_URI (e.g. http://host:19530), else a Milvus Lite file `milvus.db` in the index folder."""
    return os.environ.get("LOOKALIKE_MILVUS_URI") or str(Path(index_dir).resolve() / "milvus.db")


def milvus_token() -> str:
    """$LOOKALIKE_MILVUS_TOKEN: "user:password" or an API key for a server with authentication."""
    return os.environ.get("LOOKALIKE_MILVUS_TOKEN", "")


def milvus_collection(index_dir: str | Path) -> str:
    """$LOOKALIKE_MILVUS_COLLECTION, else `lookalike_<index folder name>` (letters, digits, underscores)."""
    name = os.environ.get("LOOKALIKE_MILVUS_COLLECTION") or f"lookalike_{Path(index_dir).resolve().name}"
    return re.sub(r"\W", "_", name)


def detector_replicas() -> int:
    """Detector copies a served engine keeps for shoppers uploading at once: $LOOKALIKE_DETECTOR_REPLICAS, else 2.

    Two replicas cut ten simultaneous uploads' wait p95 by a third on 2 cores for about 75 MB; more did not help there.
    """
    return max(1, int(os.environ.get("LOOKALIKE_DETECTOR_REPLICAS", DETECTOR_REPLICAS)))


def query_detection() -> dict:
    """Detector settings for query photos: $LOOKALIKE_QUERY_CONF and $LOOKALIKE_QUERY_MAX_DET, else the defaults.

    Catalogue builds keep the stricter confidence recorded in the index; a shopper's photo is better served by
    more candidate boxes (a click picks one, and a miss is a lost sale).
    """
    return {
        "conf": float(os.environ.get("LOOKALIKE_QUERY_CONF", QUERY_CONF)),
        "max_det": int(os.environ.get("LOOKALIKE_QUERY_MAX_DET", QUERY_MAX_DET)),
    }


def default_head() -> str | None:
    """$LOOKALIKE_HEAD ('none' for no head), else the project's trained embedding head when present, else None."""
    chosen = os.environ.get("LOOKALIKE_HEAD")
    if chosen:
        return None if chosen.lower() == "none" else chosen
    return str(TRAINED_HEAD.relative_to(PROJECT_ROOT)) if TRAINED_HEAD.is_file() else None
