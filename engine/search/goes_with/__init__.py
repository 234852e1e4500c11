"""'Goes well with': products of other kinds that go with a clicked product, learned from a catalogue's room photos.

    model = goes_with_for(index)                 # made once per index version (its metadata table)
    model.suggest(["302.811.50"], k=10)          # -> [Suggestion(rank, product_id, name, category, score, ...)]
    model.suggest({match.product_id: match.score for match in matches})   # a clicked object: its lookalikes
    model.source                                 # what it learned from, for shoppers (room photos or style only)

The catalogue build stores which room photos show each product (`ROOMS_COLUMN`, from the catalogue's rooms.csv);
the style cues (collection, words, colours, look) come from the index itself. `SHOW_ROW` says whether the app
shows the row: it beats the popularity baseline on the held-out dev rooms (docs/BENCHMARKS.md, "Goes well with").
"""

from __future__ import annotations

from engine.index.protocol import VectorIndex
from engine.search.goes_with.model import GoesWith, Suggestion, Weights
from engine.search.goes_with.profiles import Profiles
from engine.search.goes_with.rooms import ROOMS_COLUMN, format_rooms, parse_rooms

SHOW_ROW = True  # recall@10 on held-out dev rooms well above popularity: docs/BENCHMARKS.md, "Goes well with"


def goes_with_for(index: VectorIndex, weights: Weights | None = None) -> GoesWith:
    """The model of an index's current metadata (cached on the index, made again after an edit changes it)."""
    cached = getattr(index, "_goes_with", None)
    if cached is not None and cached[0] is index.meta and weights is None:
        return cached[1]
    model = GoesWith(Profiles.from_meta(index.meta, index.vectors), weights)
    if weights is None:
        index._goes_with = (index.meta, model)
    return model


__all__ = [
    "ROOMS_COLUMN",
    "SHOW_ROW",
    "GoesWith",
    "Profiles",
    "Suggestion",
    "Weights",
    "format_rooms",
    "goes_with_for",
    "parse_rooms",
]
