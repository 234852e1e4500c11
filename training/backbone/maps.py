"""Prefix maps of training views: the frozen part of the network run once, so a tail trains without it.

A tail starting at `blocks[start]` only ever sees the maps the frozen stem and `blocks[:start]` make of a crop
((192, 7, 7) for start 6). They are cached per view, exactly like the head's base vectors (`FeatureCache`, float16
chunks, resumable), under `root/maps-{start}/`: the catalogue entries of each base index (folder `index-{catalog}`,
source "index", the gallery), the synthetic-scene crops and the augmented shots.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from engine.curation.catalogue_files import ImageFiles
from engine.embedding import EmbeddingConfig
from engine.embedding.crop import EffnetCropEmbedder
from engine.index.store import CatalogIndex
from training.head.data import FeatureCache, SplitRule, product_key
from training.head.sets import MAX_SCENE_VIEWS, fill_view_cache, index_views
from training.metrics import normalise_family


def maps_root(cache: str | Path, start: int) -> Path:
    """Where the maps of a tail starting at `start` are cached."""
    return Path(cache) / f"maps-{start}"


def index_entry_views(index: CatalogIndex) -> pd.DataFrame:
    """Every entry of a base index as a view with its photo and box (source 'index')."""
    views, _ = index_views(index)
    meta = index.meta.reset_index(drop=True)
    files = ImageFiles(Path(index.manifest["images_root"]))  # refuses names that lead out of the catalogue
    views["path"] = [str(files.path(name)) for name in meta["image"]]
    views["box"] = meta[["x0", "y0", "x1", "y1"]].astype(float).to_numpy().tolist()
    views["entry"] = meta["id"].astype(np.int64).to_numpy()
    return views


def map_encoder(config: EmbeddingConfig, start: int, device: str = "cpu"):
    """`encode(images, boxes)` -> (n, C_in * h * w) float16 prefix maps of one box per photo."""
    embedder = EffnetCropEmbedder(config.base, device)
    return lambda images, boxes: embedder.prefix_maps(list(images), list(boxes), start)


def crop_map_encoder(config: EmbeddingConfig, start: int, device: str = "cpu"):
    """`encode_crop(image)` -> (C_in * h * w,) float32 prefix maps of a whole crop (curator-mark anchors)."""
    encode = map_encoder(config, start, device)
    return lambda image: encode([image], [(0, 0, image.width, image.height)])[0].astype(np.float32)


def fill_map_cache(
    cache: str | Path,
    indexes: list[CatalogIndex],
    start: int,
    rule: SplitRule,
    scenes_dir: Path | None = None,
    shots: int = 0,
    max_scene_views: int = MAX_SCENE_VIEWS,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = True,
) -> Path:
    """Cache the prefix maps of every index entry, scene crop and augmented shot not cached yet; returns the folder."""
    config = EmbeddingConfig.from_dict(indexes[0].manifest["embedding"])
    if config.name != "effnet-crop":
        raise ValueError(f"Backbone fine-tuning needs 'effnet-crop' base indexes, not '{config.name}'.")
    root = maps_root(cache, start)
    encode = map_encoder(config, start, device)
    for index in indexes:
        catalog = Path(index.manifest["images_root"]).name
        FeatureCache(root, f"index-{catalog}").fill(index_entry_views(index), encode, progress)
    fill_view_cache(root, indexes, config, rule, scenes_dir, shots, max_scene_views, seed, progress, encode)
    return root


def query_views(queries_dir: str | Path, keys: set[str], catalogs: list[str]) -> pd.DataFrame:
    """The benchmark's query crops (`queries.json`) as views of their products (source 'query'); an eval set only.

    A query's product is looked up in each catalogue in turn (`keys`: the gallery's product keys); photos are read
    only from inside `queries_dir`.
    """
    folder = Path(queries_dir).resolve()
    rows = []
    for query in json.loads((folder / "queries.json").read_text(encoding="utf-8")):
        candidates = [product_key(catalog, query["product_id"]) for catalog in catalogs]
        key = next((candidate for candidate in candidates if candidate in keys), "")
        path = (folder / str(query["image"])).resolve()
        if not key or not path.is_relative_to(folder):
            continue
        family = normalise_family(query.get("family") or query["product_id"])
        rows.append({"key": key, "family": family, "source": "query", "path": str(path), "box": query["box"]})
    return pd.DataFrame(rows)


def query_eval_sets(
    cache: str | Path, queries_dir: Path, start: int, data, rule: SplitRule, catalogs: list[str], device: str = "cpu"
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """'queries' and 'queries held-out' eval sets (maps cached beside, never inside, the training maps)."""
    views = query_views(queries_dir, set(data.gallery[1]), catalogs)
    if not len(views):
        return {}
    folder = FeatureCache(Path(cache) / f"evals-{start}", f"queries-{queries_dir.name}")
    config = EmbeddingConfig(name="effnet-crop")
    folder.fill(views, map_encoder(config, start, device), progress=False)
    views, maps = folder.load()
    held = views["family"].map(rule).eq("val").to_numpy()
    keys = views["key"].to_numpy()
    return {"queries": (maps, keys), "queries held-out": (maps[held], keys[held])}
