"""Product search: nearest vectors -> one best object per product, with category, price and self filters."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.index.protocol import VectorIndex

FILTER_COLUMNS = ("product_id", "category", "price")  # what `SearchFilters.mask` and the one-per-product step read
SHOWN_FIELDS = ("product_id", "name", "category", "price", "currency", "url", "image")
INTERNAL_FIELDS = (
    *("id", "kind", "x0", "y0", "x1", "y1", "class_name", "confidence", "content_hash", "colors"),
    "room_photos",  # engine.search.goes_with.ROOMS_COLUMN
)


@dataclass(frozen=True)
class SearchFilters:
    """Optional constraints on the products returned."""

    categories: tuple[str, ...] = ()  # empty: any category
    price_min: float | None = None
    price_max: float | None = None
    exclude_products: tuple[str, ...] = ()  # e.g. the query's own product

    @property
    def active(self) -> bool:
        """Whether any filter is set."""
        prices = (self.price_min, self.price_max) != (None, None)
        return bool(self.categories or self.exclude_products or prices)

    def mask(self, rows: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows that pass every filter."""
        keep = np.ones(len(rows), dtype=bool)
        if self.categories:
            keep &= rows["category"].isin(self.categories).to_numpy()
        if self.price_min is not None or self.price_max is not None:
            price = pd.to_numeric(rows["price"], errors="coerce").to_numpy(dtype=float)
            low = -math.inf if self.price_min is None else self.price_min
            high = math.inf if self.price_max is None else self.price_max
            keep &= (price >= low) & (price <= high)
        if self.exclude_products:
            keep &= ~rows["product_id"].isin(self.exclude_products).to_numpy()
        return keep

    def expression(self) -> str:
        """The same filters as a Milvus boolean expression over the fields `f_category`, `f_price`, `f_product`."""
        parts = []
        if self.categories:
            parts.append(f"f_category in {json.dumps(list(self.categories))}")
        if self.price_min is not None:
            parts.append(f"f_price >= {float(self.price_min)!r}")
        if self.price_max is not None:
            parts.append(f"f_price <= {float(self.price_max)!r}")
        if self.exclude_products:
            parts.append(f"f_product not in {json.dumps(list(self.exclude_products))}")
        return " and ".join(parts)


@dataclass
class Match:
    """One product in a result list, represented by its best-matching indexed object.

    `score` is what the list is ordered by, best first: the visual similarity (cosine) plus whatever the ranking
    added (the clicked object's class bonus, a refinement's colour and word boosts, the k-reciprocal term);
    `similarity` keeps the plain cosine of the matched object.
    """

    rank: int
    product_id: str
    score: float  # the ranking score: cosine similarity in [-1, 1] plus the ranking's bonuses
    image: str  # catalogue image path, relative to the index's images_root
    name: str = ""
    category: str = ""
    price: float | None = None
    currency: str = ""
    url: str = ""
    box: tuple[float, float, float, float] | None = None  # the matched object in the catalogue image
    content_hash: str = ""  # sha1 of the catalogue photo (names its stored thumbnail, `engine.thumbnails`)
    extra: dict = field(default_factory=dict)  # every other product column
    similarity: float | None = None  # the plain cosine similarity; None: the same as `score`

    def __post_init__(self) -> None:
        if self.similarity is None:
            self.similarity = self.score

    def to_json(self) -> dict:
        """The fields scripts print with --json."""
        keys = ("rank", "product_id", "score", "similarity", "image", "name", "category", "price", "url")
        return {key: getattr(self, key) for key in keys}


def search_products(
    index: VectorIndex, query: np.ndarray, k: int = 10, filters: SearchFilters | None = None
) -> list[Match]:
    """Top-k products for a (D,) unit query vector, best first; each product appears once.

    Fetches more neighbours than `k` and widens the fetch until enough distinct products pass the filters
    or the whole index has been scanned. Indexes that `pushes_filters` (Milvus) apply the filters during the
    vector search; the others are filtered here.
    """
    filters = filters or SearchFilters()
    if len(index) == 0 or k <= 0:
        return []
    pushed = {"filter": filters.expression()} if index.pushes_filters else {}
    fetch = min(len(index), k * 8 + 32)
    while True:
        scores, ids = index.search(query.reshape(1, -1), fetch, **pushed)
        valid = ids[0] >= 0
        hits, hit_scores = ids[0][valid], scores[0][valid]  # (H,) best first
        best = _best_per_product(index, hits, filters)  # (B,) positions into hits
        if len(best) >= k or fetch >= len(index) or (pushed and valid.sum() < fetch):
            chosen = best[:k]
            rows = index.rows(hits[chosen]).assign(score=hit_scores[chosen])  # full rows of the k shown only
            return [_to_match(rank, row) for rank, row in enumerate(rows.to_dict("records"), 1)]
        fetch = min(len(index), fetch * 4)


def _best_per_product(index: VectorIndex, hits: np.ndarray, filters: SearchFilters) -> np.ndarray:
    """Positions of the hits that pass the filters and come first for their product, in order."""
    if not filters.active and not index.pushes_filters:
        codes = product_codes(index)[hits]  # (H,) small ints: numpy only, no metadata rows
        return np.sort(np.unique(codes, return_index=True)[1])
    return first_per_product(index.rows(hits, FILTER_COLUMNS), filters)


def product_codes(index: VectorIndex) -> np.ndarray:
    """(max id + 1,) int64: each entry id's product as a small integer; made once per metadata table."""
    meta = index.meta
    cached = getattr(index, "_product_codes", None)
    if cached is not None and cached[0] is meta:
        return cached[1]
    codes = np.full(int(meta["id"].max()) + 1 if len(meta) else 0, -1, dtype=np.int64)
    codes[meta["id"].to_numpy(np.int64)] = pd.factorize(meta["product_id"])[0]
    index._product_codes = (meta, codes)  # keyed by the table itself: a new table (an edit) makes new codes
    return codes


def first_per_product(rows: pd.DataFrame, filters: SearchFilters) -> np.ndarray:
    """Positions of the rows that pass the filters and come first for their product, in order."""
    passing = np.flatnonzero(filters.mask(rows))
    _, first = np.unique(rows["product_id"].to_numpy()[passing], return_index=True)
    return passing[np.sort(first)]


def _to_match(rank: int, data: dict) -> Match:
    """Build a Match from a metadata row."""
    price = pd.to_numeric(data.get("price"), errors="coerce")
    shown = {key: _text(data.get(key)) for key in ("name", "category", "currency", "url")}
    extra = {
        key: value
        for key, value in data.items()
        if key not in SHOWN_FIELDS and key not in INTERNAL_FIELDS and key != "score" and _text(value)
    }
    return Match(
        rank=rank,
        product_id=str(data["product_id"]),
        score=float(data["score"]),
        image=str(data["image"]),
        price=None if pd.isna(price) else float(price),
        box=(data["x0"], data["y0"], data["x1"], data["y1"]),
        content_hash=_text(data.get("content_hash")),
        extra=extra,
        **shown,
    )


def _text(value) -> str:
    """A display string; missing values become empty."""
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
