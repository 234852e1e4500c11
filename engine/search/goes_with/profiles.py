"""Style cues of every catalogue product, as arrays: kind, collection, material and style words, colours, look.

One row per product (P), made once per index version from the metadata and the stored vectors:

* kind: the product's category (suggestions are of other kinds than the clicked one);
* collection: its name, when named by a product line (IKEA's "HEMNES" bed, dresser and shelf);
* words: the words of its name, colour and description, weighted by rarity (TF-IDF), kept in a small inverted index;
* colours: the share of the photo's dominant colours (`engine.search.colors`) in each named colour region;
* look: the unit vector of its photo's index entry (the visual embedding).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.search.colors import REGIONS, TOLERANCE, parse_colors
from engine.search.goes_with.rooms import ROOMS_COLUMN, parse_rooms

TEXT_COLUMNS = ("name", "color", "colour", "material", "style", "description")
WORD = re.compile(r"[^\W\d_]{3,}")  # letters only, at least three
MAX_WORD_SHARE = 0.2  # a word in more products than this says nothing about style
MAX_TEXT = 2000  # characters read per product
STOPWORDS = frozenset({
    "the", "and", "for", "with", "you", "your", "that", "this", "can", "are", "from", "has", "have", "not", "all",
    "its", "into", "out", "use", "also", "more", "which", "when", "than", "other", "one", "two", "each", "only",
    "will", "was", "our", "their", "them", "they", "any", "may", "new", "per",
})  # fmt: skip
ENTRY_ORDER = {"curated": 0, "image": 1, "object": 2}  # the entry that stands for a product's look, best first


@dataclass
class Profiles:
    """Per-product cues over P products, in one fixed order (`product_ids`)."""

    product_ids: np.ndarray  # (P,) str
    rows: pd.DataFrame  # (P,) the metadata row standing for each product (its look entry)
    kinds: np.ndarray  # (P,) int64 codes into `kind_names`
    kind_names: list[str]
    collections: np.ndarray  # (P,) int64 codes of the name, -1 when unnamed
    word_index: tuple[np.ndarray, np.ndarray, np.ndarray]  # CSR by word: (V+1,) starts, products, weights
    word_rows: list[tuple[np.ndarray, np.ndarray]]  # (P,) each product's (word ids, weights), unit norm
    colors: np.ndarray  # (P, C) float32 unit rows of colour-region shares; zero rows when unknown
    vectors: np.ndarray  # (P, D) float32 unit look vectors; zero rows when unknown
    rooms: list[list[str]]  # (P,) the room photos showing each product

    @classmethod
    def from_meta(cls, meta: pd.DataFrame, vectors_of: Callable[[np.ndarray], np.ndarray]) -> Profiles:
        """Profiles of every product of an index's metadata; `vectors_of(ids)` returns the stored (N, D) vectors."""
        rows = _look_rows(meta)
        categories = rows["category"].fillna("").astype(str) if "category" in rows else pd.Series([""] * len(rows))
        kinds, kind_names = pd.factorize(categories.to_numpy())
        names = rows["name"].fillna("").astype(str).str.strip().str.upper() if "name" in rows else categories * 0
        collections = np.where(names.to_numpy() != "", pd.factorize(names.to_numpy())[0], -1)
        word_rows, word_index = _words(rows)
        vectors = _unit(np.asarray(vectors_of(rows["id"].to_numpy(np.int64)), dtype=np.float32).reshape(len(rows), -1))
        rooms = [parse_rooms(v) for v in rows[ROOMS_COLUMN]] if ROOMS_COLUMN in rows else [[] for _ in range(len(rows))]
        return cls(
            product_ids=rows["product_id"].astype(str).to_numpy(),
            rows=rows,
            kinds=kinds.astype(np.int64),
            kind_names=[str(name) for name in kind_names],
            collections=collections.astype(np.int64),
            word_index=word_index,
            word_rows=word_rows,
            colors=_color_profiles(rows),
            vectors=vectors,
            rooms=rooms,
        )

    def __len__(self) -> int:
        return len(self.product_ids)

    def word_similarity(self, i: int) -> np.ndarray:
        """(P,) cosine similarity of product i's weighted words with every product's."""
        starts, products, weights = self.word_index
        out = np.zeros(len(self), dtype=np.float32)
        for word, weight in zip(*self.word_rows[i]):
            span = slice(starts[word], starts[word + 1])
            np.add.at(out, products[span], weights[span] * weight)
        return out

    def color_similarity(self, i: int) -> np.ndarray:
        """(P,) cosine similarity of product i's colour-region shares with every product's (0 when unknown)."""
        return self.colors @ self.colors[i]

    def look_similarity(self, i: int) -> np.ndarray:
        """(P,) cosine similarity of product i's look vector with every product's."""
        return self.vectors @ self.vectors[i]


def _look_rows(meta: pd.DataFrame) -> pd.DataFrame:
    """One metadata row per product: its curated entry, else its whole photo, else its first object."""
    order = meta["kind"].map(ENTRY_ORDER).fillna(len(ENTRY_ORDER)) if "kind" in meta else pd.Series(0, meta.index)
    ranked = meta.assign(_order=order.to_numpy()).sort_values(["_order", "id"], kind="stable")
    rows = ranked.drop_duplicates("product_id").drop(columns="_order")
    return rows.sort_values("product_id", kind="stable").reset_index(drop=True)


def _words(rows: pd.DataFrame):
    """(per-product (word ids, unit TF-IDF weights), CSR inverted index) over the informative words."""
    columns = [c for c in TEXT_COLUMNS if c in rows]
    text = rows[columns].fillna("").astype(str).agg(" ".join, axis=1) if columns else pd.Series([""] * len(rows))
    bags = [sorted({w for w in WORD.findall(t[:MAX_TEXT].lower()) if w not in STOPWORDS}) for t in text]
    counts = pd.Series([w for bag in bags for w in bag], dtype=object).value_counts()
    vocab = counts[(counts >= 2) & (counts <= max(2, MAX_WORD_SHARE * len(rows)))]
    ids = {word: j for j, word in enumerate(vocab.index)}
    idf = np.log(len(rows) / vocab.to_numpy(dtype=np.float32)).astype(np.float32)
    per_product, pairs = [], []
    for i, bag in enumerate(bags):
        words = np.array([ids[w] for w in bag if w in ids], dtype=np.int64)
        weights = idf[words] if len(words) else np.zeros(0, dtype=np.float32)
        weights = weights / max(float(np.linalg.norm(weights)), 1e-9)
        per_product.append((words, weights.astype(np.float32)))
        pairs += [(w, i, v) for w, v in zip(words.tolist(), weights.tolist())]
    pairs.sort()
    words = np.array([p[0] for p in pairs], dtype=np.int64)
    starts = np.searchsorted(words, np.arange(len(ids) + 1)).astype(np.int64)
    products = np.array([p[1] for p in pairs], dtype=np.int64)
    weights = np.array([p[2] for p in pairs], dtype=np.float32)
    return per_product, (starts, products, weights)


def _color_profiles(rows: pd.DataFrame) -> np.ndarray:
    """(P, C) unit rows: the share of each product's dominant colours within each colour region."""
    palettes = [parse_colors(v) for v in rows["colors"]] if "colors" in rows else [None] * len(rows)
    owner = np.concatenate([np.full(len(p), i) for i, p in enumerate(palettes) if p is not None] or [np.zeros(0)])
    found = [p for p in palettes if p is not None]
    colors = np.concatenate(found) if found else np.zeros((0, 4), dtype=np.float32)  # (M, 4) L, a, b, share
    shares = np.zeros((len(rows), len(REGIONS)), dtype=np.float32)
    for j, region in enumerate(REGIONS.values()):
        inside = region.distance(colors[:, :3]) <= TOLERANCE
        np.add.at(shares[:, j], owner[inside].astype(np.int64), colors[inside, 3])
    return _unit(shares)


def _unit(rows: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.maximum(norms, 1e-9)).astype(np.float32)
