"""Refine visual matches with words: "green velvet", "white under 2000", "dark grey chair below 500".

`parse_refinement` splits the words into colour phrases (regions of CIELAB, `engine.search.colors`), price limits
("under 2000", "below 500", "cheaper than 300", "over 100", "between 100 and 400") and other words. `refined_search`
then searches a wider pool of visual matches (price limits applied inside the search) and keeps the products
whose photo has the colours (or whose catalogue text names them) and whose text columns contain the other words,
re-ranked by visual similarity plus how much of the product is that colour.

Product colours come from the index metadata (`colors`, computed at build time from each product photo); an
index built before colours were stored gets them computed from the catalogue photos when first needed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.images import ImageLoadError, load_image
from engine.search.colors import REGIONS, SYNONYMS, color_region, color_share, dominant_colors, parse_colors
from engine.search.products import Match, SearchFilters
from engine.search.rerank import QueryKind, RankingConfig, search_on_topic

COLOR_COLUMN = "colors"
POOL = 200  # visual matches refined (at least; 10 x k for a larger k)
MIN_COLOR_SHARE = 0.25  # a product "is" a colour when this share of its pixels is
COLOR_WEIGHT = 0.15  # re-ranking: visual cosine + this x colour share ...
TEXT_WEIGHT = 0.05  # ... + this x share of the words found in the catalogue text
NUMBER = r"[$€£]?\s*(\d[\d,]*(?:\.\d+)?)\s*(k\b)?\s*(?:hkd|usd|eur|sek|kr|dollars?|euros?)?"
PRICE_PATTERNS = (
    (re.compile(rf"\bbetween\s+{NUMBER}\s+(?:and|to)\s+{NUMBER}", re.I), "between"),
    (re.compile(rf"(?:\b(?:under|below|less than|cheaper than|at most|up to|max(?:imum)?)|<)\s*{NUMBER}", re.I), "max"),
    (re.compile(rf"(?:\b(?:over|above|more than|at least|from|min(?:imum)?)|>)\s*{NUMBER}", re.I), "min"),
)
STOP_WORDS = frozenset((
    "a", "an", "the", "in", "of", "with", "and", "or", "but", "this", "that", "these", "those", "like", "same", "one",
    "it", "its", "for", "to", "colour", "color", "colored", "coloured", "please", "show", "me", "find", "want",
    "similar",
))  # fmt: skip
WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class Refinement:
    """What a refinement text asks for."""

    colors: tuple[str, ...] = ()  # colour phrases, e.g. ("green", "light grey")
    words: tuple[str, ...] = ()  # other words, looked up in the catalogue's text columns
    price_min: float | None = None
    price_max: float | None = None

    def __bool__(self) -> bool:
        return bool(self.colors or self.words or self.price_min is not None or self.price_max is not None)

    def describe(self) -> str:
        """'colour: green · words: velvet · price: at most 2,000'."""
        parts = [f"colour: {', '.join(self.colors)}"] if self.colors else []
        parts += [f"words: {', '.join(self.words)}"] if self.words else []
        if self.price_min is not None or self.price_max is not None:
            low = "" if self.price_min is None else f"at least {self.price_min:,.0f}"
            high = "" if self.price_max is None else f"at most {self.price_max:,.0f}"
            parts.append("price: " + " and ".join(p for p in (low, high) if p))
        return " · ".join(parts)

    def without_prices(self) -> Refinement:
        """The same words and colours with the price limits dropped (for a catalogue that has no prices)."""
        return dataclasses.replace(self, price_min=None, price_max=None)

    @property
    def has_prices(self) -> bool:
        """Whether it asks for a price limit."""
        return self.price_min is not None or self.price_max is not None

    def filters(self, base: SearchFilters | None = None) -> SearchFilters:
        """`base` with this refinement's price limits added (the tighter limit wins)."""
        base = base or SearchFilters()
        low = max((v for v in (base.price_min, self.price_min) if v is not None), default=None)
        high = min((v for v in (base.price_max, self.price_max) if v is not None), default=None)
        return dataclasses.replace(base, price_min=low, price_max=high)


def parse_refinement(text: str) -> Refinement:
    """Split free text into colour phrases, price limits and other words."""
    text = str(text or "")[:200].lower()
    limits: dict[str, float] = {}
    for pattern, kind in PRICE_PATTERNS:
        for found in pattern.finditer(text):
            values = _numbers(found.groups())
            if kind == "between":
                limits["min"], limits["max"] = min(values), max(values)
            else:
                limits[kind] = values[0]
        text = pattern.sub(" ", text)
    tokens = [t for t in WORD.findall(text) if t not in STOP_WORDS]
    colors, words, i = [], [], 0
    while i < len(tokens):
        pair = " ".join(tokens[i : i + 2])
        if i + 1 < len(tokens) and color_region(pair) is not None:
            colors.append(pair)
            i += 2
            continue
        (colors if color_region(tokens[i]) is not None else words).append(tokens[i])
        i += 1
    return Refinement(tuple(dict.fromkeys(colors)), tuple(dict.fromkeys(words)), limits.get("min"), limits.get("max"))


def refine_matches(
    matches: list[Match],
    refinement: Refinement,
    colors_of: Callable[[Match], np.ndarray | None],
    use_text: bool = True,
) -> list[Match]:
    """The matches that satisfy the refinement, re-ranked and renumbered (price limits are the search's job).

    A colour is satisfied when at least `MIN_COLOR_SHARE` of the product photo's pixels lie in its region, or
    (`use_text`) when the catalogue text names it; every other word must appear in the catalogue text. A match's
    new score is its score (similarity, plus the class bonus of a steered search) plus the colour and word boosts.
    """
    kept = []
    for match in matches:
        text = _product_text(match)
        if not all(_has_word(text, word) for word in refinement.words):
            continue
        colors = colors_of(match) if refinement.colors else None
        shares = [_color_share(colors, phrase) for phrase in refinement.colors]
        named = [use_text and _names_color(text, phrase) for phrase in refinement.colors]
        if not all(share >= MIN_COLOR_SHARE or said for share, said in zip(shares, named)):
            continue
        boost = COLOR_WEIGHT * (np.mean(shares) if shares else 0.0) + TEXT_WEIGHT * bool(refinement.words)
        kept.append((float(match.score + boost), match))
    kept.sort(key=lambda pair: -pair[0])
    return [dataclasses.replace(m, rank=rank, score=score) for rank, (score, m) in enumerate(kept, start=1)]


def refined_search(
    index,
    vector: np.ndarray,
    k: int,
    refinement: Refinement,
    images_root: str | Path,
    filters=None,
    use_text=True,
    kind: QueryKind | None = None,
    ranking: RankingConfig | None = None,
) -> list[Match]:
    """Top-k products for a query vector among a wider visual pool, refined by `refinement`.

    `kind` (the clicked object's class, `Lookalike.box_kind`) steers the pool and the ranking as it steers an
    unrefined search (`rerank.search_on_topic`): "green" on a clicked sofa gives green sofas first.
    """
    filters, ranking = refinement.filters(filters), ranking or RankingConfig()
    if not refinement.colors and not refinement.words:
        return search_on_topic(index, vector, k, filters, kind, ranking)
    pool = search_on_topic(index, vector, max(POOL, 10 * k), filters, kind, ranking)  # scores hold the class bonus
    return refine_matches(pool, refinement, product_colors(index, images_root), use_text)[:k]


def stores_colors(index) -> bool:
    """Whether the index metadata has product colours (indexes built before them compute them when needed)."""
    return COLOR_COLUMN in index.meta.columns and index.meta[COLOR_COLUMN].notna().any()


def product_colors(index, images_root: str | Path) -> Callable[[Match], np.ndarray | None]:
    """A lookup of a match's product colours: stored in the metadata, else computed from its catalogue photo."""
    stored: dict[str, str] = {}
    if COLOR_COLUMN in index.meta.columns:
        rows = index.meta[["image", COLOR_COLUMN]].dropna().drop_duplicates("image")
        stored = dict(zip(rows["image"], rows[COLOR_COLUMN]))
    root = str(Path(images_root).resolve())

    def lookup(match: Match) -> np.ndarray | None:
        found = parse_colors(stored.get(match.image))
        return found if found is not None else photo_colors(root, match.image)

    return lookup


@lru_cache(maxsize=8192)
def photo_colors(images_root: str, image: str) -> np.ndarray | None:
    """Dominant colours of a catalogue photo (only inside `images_root`); None when it cannot be read."""
    path = (Path(images_root) / image).resolve()
    if not path.is_relative_to(images_root):
        return None
    try:
        return dominant_colors(load_image(path))
    except (ImageLoadError, OSError):
        return None


def _numbers(groups: tuple) -> list[float]:
    """Numbers from regex groups of (digits, 'k' or None) pairs."""
    values = []
    for digits, thousands in zip(groups[::2], groups[1::2]):
        value = float(digits.replace(",", ""))
        values.append(value * 1000 if thousands else value)
    return values


def _product_text(match: Match) -> str:
    """Every text column of a match, lower case (name, category, colour, description, …)."""
    return " ".join(str(v) for v in (match.name, match.category, *match.extra.values())).lower()


def _has_word(text: str, word: str) -> bool:
    """Whether a word (or its singular, or a longer word it starts) appears in the text."""
    stem = word[:-1] if len(word) > 3 and word.endswith("s") else word
    return re.search(rf"\b{re.escape(stem)}", text) is not None


def _names_color(text: str, phrase: str) -> bool:
    """Whether the catalogue text names the colour (or a synonym of it) as a word."""
    name = phrase.split()[-1]
    names = {name, SYNONYMS.get(name, name)} | {word for word, to in SYNONYMS.items() if to == name}
    return any(re.search(rf"\b{re.escape(n)}\b", text) for n in names if n in REGIONS or n in SYNONYMS)


def _color_share(colors: np.ndarray | None, phrase: str) -> float:
    """The share of the product in the colour's region (0 when its colours are unknown)."""
    region = color_region(phrase)
    return 0.0 if colors is None or region is None else color_share(colors, region)
