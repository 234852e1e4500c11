"""Refinement examples that work on the catalogue shown: its common colours and materials, prices only if it has them.

A fixed example such as "white under 2000" finds nothing in a catalogue without prices (ikea-rooms), and
"velvet" nothing in one whose text never says velvet (ikea-catalog). `refinement_examples` picks, from short
lists of colour and material words, the ones most of this catalogue's products have (colours as stored in the
index at build time, materials in the catalogue's text), and adds a price limit only when products have prices.
"""

from __future__ import annotations

import math
import re
import weakref

import numpy as np
import pandas as pd

from engine.search.colors import color_region, color_share, parse_colors
from engine.search.products import INTERNAL_FIELDS

COLORS = ("white", "black", "dark grey", "light grey", "beige", "brown", "green", "blue")  # candidates, in order
MATERIALS = ("glass", "metal", "steel", "birch", "oak", "pine", "cotton", "bamboo", "rattan", "velvet", "leather")
MIN_SHARE = 0.25  # as `refine.MIN_COLOR_SHARE`: a product "is" a colour when this share of its pixels is
NOT_TEXT = ("product_id", "image", "url", "price", "currency", *INTERNAL_FIELDS)  # columns never searched for words


def refinement_examples(meta: pd.DataFrame, n_colors: int = 2) -> list[str]:
    """Example refinements for a catalogue (its index metadata): e.g. ['white', 'dark grey', 'glass'], plus
    'white under 3000' when products have prices; cached per metadata table."""
    cached = _CACHE.get(id(meta))
    if cached is not None and cached[0]() is meta:
        return list(cached[1])
    products = meta.drop_duplicates("product_id")
    colors = common_colors(products)[:n_colors] or ["white"]
    examples = colors + common_materials(products)[:1]
    limit = price_limit(products)
    if limit is not None:
        examples.append(f"{colors[0]} under {limit:.0f}")
    _CACHE.clear()  # one live index per process is the rule; never let the cache grow
    _CACHE[id(meta)] = (weakref.ref(meta), tuple(examples))
    return examples


_CACHE: dict[int, tuple[weakref.ref, tuple[str, ...]]] = {}


def common_colors(products: pd.DataFrame) -> list[str]:
    """The candidate colours at least 5% of the products are (by their stored photo colours), commonest first."""
    if "colors" not in products:
        return []
    stored = [c for c in map(parse_colors, products["colors"]) if c is not None]
    counts = {name: sum(color_share(c, color_region(name)) >= MIN_SHARE for c in stored) for name in COLORS}
    return sorted((name for name in COLORS if counts[name] >= 0.05 * max(1, len(stored))), key=lambda c: -counts[c])


def common_materials(products: pd.DataFrame) -> list[str]:
    """The candidate material words the catalogue text of at least 2% of the products names, commonest first."""
    columns = [c for c in products.columns if c not in NOT_TEXT and not pd.api.types.is_numeric_dtype(products[c])]
    if not columns:
        return []
    text = products[columns].fillna("").astype(str).agg(" ".join, axis=1).str.lower()
    counts = {word: int(text.str.contains(rf"\b{re.escape(word)}", regex=True).sum()) for word in MATERIALS}
    return sorted((w for w in MATERIALS if counts[w] >= 0.02 * len(products)), key=lambda w: -counts[w])


def has_prices(meta: pd.DataFrame) -> bool:
    """Whether any product of a catalogue (its index metadata) has a positive price."""
    return price_limit(meta) is not None


def price_limit(products: pd.DataFrame) -> float | None:
    """A round price under which about half the products lie (the median to one significant digit); None without
    prices."""
    if "price" not in products:
        return None
    prices = pd.to_numeric(products["price"], errors="coerce").to_numpy(dtype=float)
    prices = prices[np.isfinite(prices) & (prices > 0)]
    if not len(prices):
        return None
    median = float(np.median(prices))
    step = 10 ** math.floor(math.log10(median))
    return float(math.ceil(median / step) * step)
