"""Grids that stay on topic: the query's kind (the clicked object's class) re-ranks the similar products.

Similarity alone lets a fabric print or a saucepan's sheen land among a sofa's matches. The query's coarse class
(`engine.search.taxonomy`: the detector's class for a clicked box, a product's category on the catalogue page) adds a
bonus to each candidate's cosine similarity: the whole bonus for the same class, a share of it for a related
class (a sofa and an armchair, a bed and its quilt), nothing for the rest. The candidates are the `pool` most
similar products plus the `pool` most similar of the query's own class, so products of the right kind can be
lifted even from far down; nothing is filtered out, so a grid is never emptier than plain similarity's.
Queries without a class (a drawn box over no detection, a photo with nothing detected) keep plain similarity.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.geometry import box_iou
from engine.search.expansion import KReciprocal, expand_query
from engine.search.products import Match, SearchFilters, search_products
from engine.search.taxonomy import CLASSES, coarse_class

RELATED = frozenset(
    frozenset(pair)
    for pair in (
        ("sofa", "chair"),
        ("sofa", "bed"),
        ("bed", "textile"),
        ("textile", "rug"),
        ("table", "storage"),
        ("lamp", "decor"),
        ("decor", "kitchenware"),
        ("kitchenware", "fixture"),
        ("decor", "toy"),
    )
)
MAIN_OBJECT_SHARE = 0.15  # a product's object entry must cover this share of its photo to stand for the product


@dataclass(frozen=True)
class RankingConfig:
    """How strongly the query's class steers the ranking (the app, the CLI and the benchmarks share the default)."""

    bonus: float = 0.2  # added to a same-class product's cosine when the detector is sure of the query's class
    related_share: float = 0.5  # share of the bonus a related class gets (and a product of unknown class)
    full_confidence: float = 0.5  # detection confidence at which the detector's class earns the whole bonus
    product_bonus: float = 1.0  # bonus when the class is a catalogue category ("like this product"): kind first
    pool: int = 50  # products fetched by similarity, and again within the query's class, before re-ranking
    min_iou: float = 0.5  # a query box takes the class of the detection overlapping it at least this much
    expand: int = 0  # alpha-QE: the query is averaged with this many nearest products first (0: off; `expansion`)
    expand_alpha: float = 3.0  # their weights are cosine ** expand_alpha
    reciprocal_k: int = 0  # k-reciprocal re-scoring of the pool before the class bonus (0: off; `expansion`)
    reciprocal_weight: float = 0.3  # weight of the k-reciprocal Jaccard distance against the cosine

    def to_dict(self) -> dict:
        """The config as recorded by the benchmarks."""
        return dataclasses.asdict(self)


NO_PRIOR = RankingConfig(bonus=0.0, product_bonus=0.0)  # plain similarity, for comparison


@dataclass(frozen=True)
class QueryKind:
    """The query's coarse class and the bonus a product of the same class gets."""

    cls: str
    bonus: float


def kind_of_box(detections: Sequence, box, config: RankingConfig) -> QueryKind | None:
    """The class of the detection overlapping `box` best (IoU >= `min_iou`), its bonus scaled by its confidence."""
    best, best_iou = None, config.min_iou
    for detection in detections:
        overlap = box_iou(detection.box, box)
        if overlap >= best_iou and detection.class_name in CLASSES:
            best, best_iou = detection, overlap
    if best is None or config.bonus <= 0:
        return None
    return QueryKind(best.class_name, config.bonus * min(1.0, best.confidence / config.full_confidence))


def kind_of_category(category: str, config: RankingConfig) -> QueryKind | None:
    """The class of a catalogue category (the catalogue page's query), with the product bonus; None if unknown."""
    if not category or config.product_bonus <= 0:
        return None
    return QueryKind(coarse_class(category), config.product_bonus)


def affinity(query_cls: str, cls: str, related_share: float) -> float:
    """1 for the same class, `related_share` for a related (or unknown) one, 0 otherwise."""
    if cls == query_cls:
        return 1.0
    return related_share if not cls or frozenset((query_cls, cls)) in RELATED else 0.0


def product_classes(matches: Sequence[Match], meta: pd.DataFrame) -> list[str]:
    """Each match's class: its category's, else the class the build's detector gave the product's largest object."""
    missing = {m.product_id for m in matches if not m.category}
    fallback: dict[str, str] = {}
    if missing:
        rows = meta[meta["product_id"].isin(missing) & (meta["kind"] == "object")]
        rows = rows.assign(area=(rows["x1"] - rows["x0"]) * (rows["y1"] - rows["y0"])).sort_values("area")
        fallback = dict(zip(rows["product_id"], rows["class_name"]))  # the largest object wins
    return [coarse_class(m.category) if m.category else fallback.get(m.product_id, "") for m in matches]


def class_bonuses(classes: Sequence[str], kind: QueryKind | None, config: RankingConfig) -> list[float]:
    """What the query's class adds to each match's cosine: the full bonus for its own class, a share for a related
    one, nothing for others or when the query has no class."""
    if kind is None:
        return [0.0] * len(classes)
    return [kind.bonus * affinity(kind.cls, c, config.related_share) for c in classes]


def rerank(matches: Sequence[Match], classes: Sequence[str], kind: QueryKind, config: RankingConfig) -> list[Match]:
    """`matches` ordered by cosine + class bonus, which becomes their score (stable: ties keep similarity order),
    ranks renumbered."""
    adjusted = [m.score + bonus for m, bonus in zip(matches, class_bonuses(classes, kind, config))]
    order = sorted(range(len(matches)), key=lambda i: -adjusted[i])
    return [dataclasses.replace(matches[i], rank=rank, score=adjusted[i]) for rank, i in enumerate(order, start=1)]


def product_entry(rows: pd.DataFrame) -> int:
    """Id of the entry a product is searched from ("More like this", near duplicates): its curated box, else
    its main object (`main_entry`), else its photo."""
    curated = rows[rows["kind"] == "curated"]
    return int(curated["id"].iloc[0]) if len(curated) else main_entry(rows)


def main_entry(rows: pd.DataFrame) -> int:
    """Id of the index entry that stands for a product (its metadata `rows`): its main object, else its photo.

    A whole-photo vector of a patterned sofa is mostly its print, so an object entry of the product's own class
    (else of a related class) covering at least `MAIN_OBJECT_SHARE` of the photo is preferred, the largest first.
    """
    whole = rows[rows["kind"] == "image"]
    fallback = int((whole if len(whole) else rows)["id"].iloc[0])
    category = str(rows["category"].fillna("").iloc[0]) if "category" in rows else ""
    objects = rows[rows["kind"] == "object"]
    if not category or objects.empty:
        return fallback
    cls = coarse_class(category)
    area = (objects["x1"] - objects["x0"]) * (objects["y1"] - objects["y0"])
    photo = float((rows["x1"] * rows["y1"]).max())  # the whole-photo entry's box is the photo
    fit = objects["class_name"].map(lambda c: affinity(cls, str(c), 0.5)).to_numpy()
    ok = (fit > 0) & (area.to_numpy() >= MAIN_OBJECT_SHARE * photo)
    if not ok.any():
        return fallback
    order = np.lexsort((-area.to_numpy()[ok], -fit[ok]))  # same class before related, then the largest
    return int(objects["id"].to_numpy()[ok][order[0]])


def class_categories(meta: pd.DataFrame, cls: str) -> tuple[str, ...]:
    """The index's categories of one coarse class (worked out once per metadata table, not per query)."""
    cached = _BY_CLASS.get(id(meta))
    if cached is None or cached[0]() is not meta:
        by_class: dict[str, list[str]] = {}
        for category in sorted(meta["category"].dropna().astype(str).unique()):
            if category:
                by_class.setdefault(coarse_class(category), []).append(category)
        cached = (weakref.ref(meta), {c: tuple(v) for c, v in by_class.items()})
        _BY_CLASS.clear()  # one live index per process is the rule; never let the cache grow
        _BY_CLASS[id(meta)] = cached
    return cached[1].get(cls, ())


_BY_CLASS: dict[int, tuple[weakref.ref, dict[str, tuple[str, ...]]]] = {}


def search_on_topic(
    index, query: np.ndarray, k: int, filters: SearchFilters | None, kind: QueryKind | None, config: RankingConfig
) -> list[Match]:
    """Top-k products for a query vector, re-ranked by the query's kind when it has one (see the module).

    When `config` asks for them (both off by default), the query is expanded with its nearest products first
    (`expansion.expand_query`) and the candidate pool is re-scored by k-reciprocal neighbours before the class
    bonus (`expansion.KReciprocal`; a query without a kind is then re-ranked within the same pool).
    """
    filters = filters or SearchFilters()
    if config.expand > 0:
        query = expand_query(index, query, config.expand, config.expand_alpha)
    steered = kind is not None and kind.bonus > 0
    if k <= 0 or not (steered or config.reciprocal_k > 0):
        return search_products(index, query, k, filters)
    pool = max(k, config.pool)
    candidates = search_products(index, query, pool, filters)
    same = class_categories(index.meta, kind.cls) if steered else ()
    if filters.categories:
        same = tuple(c for c in same if c in set(filters.categories))
    if same:
        seen = {m.product_id for m in candidates}
        within = search_products(index, query, pool, dataclasses.replace(filters, categories=same))
        candidates += [m for m in within if m.product_id not in seen]
        candidates.sort(key=lambda m: -m.score)
    if config.reciprocal_k > 0:
        candidates = KReciprocal(config.reciprocal_k, config.reciprocal_weight)(index, query, candidates)
    if not steered:
        return candidates[:k]
    return rerank(candidates, product_classes(candidates, index.meta), kind, config)[:k]
