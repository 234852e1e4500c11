"""A head's training data: the view cache filled; cached views + base-index entries split by family; feedback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from engine.curation.feedback import FeedbackStore
from engine.embedding import EmbeddingConfig, make_embedder
from engine.index.manifest import IndexMismatchError
from engine.index.store import CatalogIndex
from training.head.data import FeatureCache, SplitRule, product_key, scene_views, shot_views
from training.head.train import TrainData

SEEN_EVAL_SHARE = 0.1  # of the scene views of training products, kept out for the "seen" curve
MAX_EVAL = 600  # queries per evaluation set
MAX_SCENE_VIEWS = 4096  # scene crops cached per catalogue


def base_index(index_dir: str | Path) -> CatalogIndex:
    """A catalogue index built without a head (its vectors are the head's inputs)."""
    index = CatalogIndex.load(index_dir)
    if EmbeddingConfig.from_dict(index.manifest["embedding"]).head:
        raise IndexMismatchError(f"'{index_dir}' was built with a head; train on an index of raw base vectors.")
    return index


def index_views(index: CatalogIndex) -> tuple[pd.DataFrame, np.ndarray]:
    """Every entry of a base index as a view (source 'index'), with its vectors."""
    meta = index.meta.reset_index(drop=True)
    catalog = Path(index.manifest["images_root"]).name
    family = meta["family"] if "family" in meta else pd.Series("", index=meta.index)
    family = family.fillna("").astype(str).where(family.fillna("").astype(str).str.strip() != "", meta.get("name", ""))
    views = pd.DataFrame(
        {
            "key": [product_key(catalog, p) for p in meta["product_id"]],
            "product_id": meta["product_id"].astype(str),
            "catalog": catalog,
            "family": family.fillna("").astype(str).str.strip().str.upper(),
            "category": meta["category"].fillna("").astype(str) if "category" in meta else "",
            "source": "index",
        }
    )
    return views, index.vectors(meta["id"].to_numpy()).astype(np.float32)


def cached_views(cache_root: str | Path) -> tuple[pd.DataFrame, np.ndarray]:
    """All views cached under `cache_root` (every sub-folder with a views.parquet), concatenated."""
    frames, vectors = [], []
    for folder in sorted(p for p in Path(cache_root).glob("*") if (p / "views.parquet").is_file()):
        views, vecs = FeatureCache(cache_root, folder.name).load()
        if len(views):
            frames.append(views.assign(cache=folder.name))
            vectors.append(vecs)
    if not frames:
        return pd.DataFrame(columns=["key", "family", "source"]), np.zeros((0, 0), dtype=np.float32)
    return pd.concat(frames, ignore_index=True), np.concatenate(vectors)


def assemble(
    indexes: list[CatalogIndex],
    cache_root: str | Path | None,
    rule: SplitRule,
    seed: int = 0,
    extra: tuple[tuple[pd.DataFrame, np.ndarray], ...] = (),
    extra_evals: dict[str, tuple[pd.DataFrame, np.ndarray]] | None = None,
) -> TrainData:
    """Training views of training families only; evaluation sets 'seen' (held-back scene views of training
    products) and 'held-out' (views of held-out families); the gallery is every entry of the indexes.

    `extra` adds (views, vectors) of other sources (e.g. mined room pairs), split by family like the rest;
    `extra_evals` adds named evaluation sets that are never trained on (e.g. pairs from held-out photos).
    """
    parts = [index_views(index) for index in indexes] + list(extra)
    if cache_root and Path(cache_root).is_dir():
        parts.append(cached_views(cache_root))
    parts = [(v, x) for v, x in parts if len(v)]
    views = pd.concat([v for v, _ in parts], ignore_index=True)
    vectors = np.concatenate([x for _, x in parts])
    held = views["family"].map(rule).eq("val").to_numpy()
    rng = np.random.default_rng(seed)
    seen_eval = (views["source"].eq("scene").to_numpy()) & ~held & (rng.random(len(views)) < SEEN_EVAL_SHARE)
    train = ~held & ~seen_eval
    is_index = views["source"].eq("index").to_numpy()
    evals = {}
    for name, mask in (("seen", seen_eval), ("held-out", held & ~is_index)):
        picked = np.flatnonzero(mask)
        picked = rng.choice(picked, size=min(MAX_EVAL, len(picked)), replace=False) if len(picked) else picked
        if len(picked):
            evals[name] = (vectors[picked], views["key"].to_numpy()[picked])
    for name, (eval_views, eval_vectors) in (extra_evals or {}).items():
        if len(eval_views):
            evals[name] = (eval_vectors, eval_views["key"].to_numpy())
    gallery = (vectors[is_index], views["key"].to_numpy()[is_index]) if is_index.any() else None
    return TrainData(vectors[train], views[train].reset_index(drop=True), evals, gallery)


def feedback_triplets(
    store: FeedbackStore, index: CatalogIndex, encode_crop, entry_vectors=None
) -> tuple[np.ndarray, ...] | None:
    """(anchors, positives, negatives) base vectors from a store's marks; products by their whole-image entry.

    `encode_crop(image)` -> (D,) base vector of a query crop (the whole crop is the box); `entry_vectors(ids)`
    -> (n, D) the entries' inputs (default: the index's stored vectors).
    """
    entry_vectors = entry_vectors or index.vectors
    triplets = store.triplets()
    if not triplets:
        return None
    meta = index.meta
    whole = meta[meta["kind"] == "image"].drop_duplicates("product_id").set_index("product_id")["id"]
    known = [t for t in triplets if t[1] in whole.index and t[2] in whole.index]
    if not known:
        return None
    anchors = {q: encode_crop(store.crop(q)) for q in {t[0] for t in known}}

    def product_vectors(products):
        return entry_vectors(whole.loc[list(products)].to_numpy()).astype(np.float32)

    return (
        np.stack([anchors[q] for q, _, _ in known]).astype(np.float32),
        product_vectors(p for _, p, _ in known),
        product_vectors(n for _, _, n in known),
    )


def crop_encoder(embedder):
    """`encode_crop` for `feedback_triplets` from a base crop embedder (the whole crop is the box)."""

    def encode(image: Image.Image) -> np.ndarray:
        box = np.array([[0, 0, image.width, image.height]], dtype=np.float32)
        return embedder.embed_crops([image], list(box))[0]

    return encode


def fill_view_cache(
    cache: Path,
    indexes: list[CatalogIndex],
    base_config: EmbeddingConfig,
    rule: SplitRule,
    scenes_dir: Path | None = None,
    shots: int = 0,
    max_scene_views: int = MAX_SCENE_VIEWS,
    seed: int = 0,
    progress: bool = True,
    encode=None,
) -> None:
    """Compute and cache the base vectors of the scene crops and augmented shots not cached yet.

    `encode(images, boxes)` -> (n, D) replaces the base embedder (e.g. a backbone prefix's flattened maps).
    """
    if encode is None:
        embedder = make_embedder(base_config)
        encode = lambda images, boxes: embedder.embed_crops(list(images), list(boxes))  # noqa: E731
    for index in indexes:
        root = Path(index.manifest["images_root"])
        catalog, products = root.name, set(index.meta["product_id"])
        if scenes_dir:
            views = scene_views(scenes_dir, "train", (catalog,))
            views = views[views["product_id"].isin(products)] if len(views) else views
            views = views.sample(frac=1.0, random_state=0).head(max_scene_views)
            if len(views):
                FeatureCache(cache, f"scene-{catalog}-train").fill(views, encode, progress)
        if shots:
            views = shot_views(root, shots, rule, seed=seed, products_csv=index.manifest.get("products_csv"))
            views = views[views["product_id"].isin(products)]
            FeatureCache(cache, f"shot-{catalog}-{shots}x").fill(views, encode, progress)
