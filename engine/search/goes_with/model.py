"""'Goes well with': products of other kinds that go with the clicked one, from room photos and style cues.

For anchors (the clicked product, or the lookalikes of a clicked object, with weights):

1. each anchor brings its closest lookalikes of the same kind that appear in room photos (look and words), so a
   product that is in no photo still borrows what designers combined with products like it;
2. together: how often each product shares a room photo with those anchors (`RoomStats.together`), spread to the
   lookalikes of the products found (a product added later, or another colour of it, inherits their score);
3. style: same collection, shared material and style words, similar colours and look, as the anchors;
4. a small popularity prior, and (off by default: no gain on the validation photos) the share of photos in
   which the two kinds go together (`RoomStats.kind_affinity`).

Without room photos only the style cues rank, and `GoesWith.source` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.search.goes_with.profiles import Profiles
from engine.search.goes_with.rooms import RoomStats


@dataclass(frozen=True)
class Weights:
    """How the cues blend (chosen on the training photos' validation part, scripts/bench_goes_with.py)."""

    together: float = 0.5  # shares room photos with the anchors or their lookalikes
    collection: float = 0.5  # same collection name
    words: float = 0.3  # shared material and style words
    colors: float = 0.1  # similar colour palette
    look: float = 0.1  # similar visual embedding
    popular: float = 0.05  # appears in many room photos
    lookalikes: int = 5  # lookalikes of the same kind, in room photos, that each anchor brings
    lookalike_weight: float = 0.5  # their weight, times their similarity
    spread: float = 0.5  # share of a found product's score its lookalikes inherit
    kind_floor: float = 1.0  # the weight of a pair of kinds never seen together (1: kinds not weighted, best on val)
    per_kind: int = 2  # products of one kind in a row at most (0: no limit), so the row completes the look


@dataclass(frozen=True)
class Suggestion:
    """One product that goes with the anchors, and the main reason."""

    rank: int
    product_id: str
    name: str
    category: str
    score: float
    image: str
    content_hash: str
    why: str

    def to_json(self) -> dict:
        """The fields `lookalike goes-with --json` prints."""
        return {k: getattr(self, k) for k in ("rank", "product_id", "name", "category", "score")}


CUES = ("together", "collection", "words", "colors", "look", "popular")
WHY = {
    "together": "in room photos with it",
    "collection": "same collection",
    "words": "same materials and style",
    "colors": "matching colours",
    "look": "a matching look",
    "popular": "often in room photos",
}


class GoesWith:
    """Ranks products that go with anchors; one per index version (`engine.search.goes_with.goes_with_for`)."""

    def __init__(self, profiles: Profiles, weights: Weights | None = None):
        self.profiles = profiles
        self.weights = weights or Weights()
        self.rooms = RoomStats.from_lists(profiles.rooms, profiles.kinds, profiles.kind_names)
        self.position = {pid: i for i, pid in enumerate(profiles.product_ids)}
        self.in_rooms = self.rooms.popularity > 0  # (P,)

    @property
    def n_rooms(self) -> int:
        """Room photos the suggestions learned from (0: style cues only)."""
        return self.rooms.n_rooms

    @property
    def source(self) -> str:
        """What the suggestions are learned from, in one sentence for shoppers."""
        if not self.n_rooms:
            return (
                "This catalogue has no room photos: suggestions come from style cues only (colours, materials, look)."
            )
        return (
            f"Learned from {self.n_rooms:,} room photos of this catalogue (products designers put together), "
            "with colours, materials and look."
        )

    def suggest(self, anchors, k: int = 10) -> list[Suggestion]:
        """Top-k products of other kinds than the anchors' for product ids (a list, or {id: weight}).

        Unknown ids are ignored; no known anchor gives an empty list.
        """
        weights = anchors if isinstance(anchors, dict) else {pid: 1.0 for pid in anchors}
        known = {self.position[p]: float(w) for p, w in weights.items() if p in self.position and w > 0}
        if not known or k <= 0:
            return []
        cues = self.cues(np.array(list(known)), np.array(list(known.values()), dtype=np.float32))
        total = self.blend(cues, np.array(list(known)))
        order = self.ranked(total)[:k]
        return [self._suggestion(rank, i, float(total[i]), cues) for rank, i in enumerate(order.tolist(), 1)]

    def cues(self, anchors: np.ndarray, weights: np.ndarray) -> dict[str, np.ndarray]:
        """Each cue as (P,) in [0, 1] for (A,) anchor positions with (A,) positive weights."""
        p = self.profiles
        weights = weights / weights.sum()
        cues = {name: np.zeros(len(p), dtype=np.float32) for name in CUES}
        for i, share in zip(anchors.tolist(), weights.tolist()):
            if p.collections[i] >= 0:
                cues["collection"] += share * (p.collections == p.collections[i])
            cues["words"] += share * p.word_similarity(i)
            cues["colors"] += share * p.color_similarity(i)
            cues["look"] += share * np.clip(p.look_similarity(i), 0, None)
        if self.n_rooms:
            cues["together"] = self._together(anchors, weights)
            popularity = np.log1p(self.rooms.popularity)
            cues["popular"] = popularity / max(float(popularity.max()), 1e-9)
        return cues

    def blend(self, cues: dict[str, np.ndarray], anchors: np.ndarray) -> np.ndarray:
        """(P,) the weighted cues, times how well each kind goes with the anchors' kind; -inf for their kinds."""
        w, p = self.weights, self.profiles
        total = sum(getattr(w, name) * cues[name] for name in CUES).astype(np.float64)
        if self.n_rooms and w.kind_floor < 1:
            affinity = self.rooms.kind_affinity[p.kinds[anchors]].max(axis=0)[p.kinds]  # (P,)
            total *= w.kind_floor + (1 - w.kind_floor) * affinity
        total[np.isin(p.kinds, p.kinds[anchors])] = -np.inf
        return total

    def ranked(self, total: np.ndarray) -> np.ndarray:
        """Positions by (P,) score, best first: -inf left out, at most `per_kind` of each kind."""
        order = np.argsort(-total, kind="stable")
        order = order[np.isfinite(total[order])]
        if self.weights.per_kind > 0:
            kinds = self.profiles.kinds[order]
            seen = pd.Series(kinds).groupby(kinds).cumcount().to_numpy()
            order = order[seen < self.weights.per_kind]
        return order

    def _together(self, anchors: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """(P,) in [0, 1]: sharing photos with the anchors and their lookalikes, spread to the lookalikes found."""
        w = self.weights
        spread = np.zeros(len(self.profiles), dtype=np.float32)
        for i, share in zip(anchors.tolist(), weights.tolist()):
            spread[i] += share
            near, similarity = self._lookalikes(i, w.lookalikes, self.in_rooms)
            spread[near] += share * w.lookalike_weight * similarity
        found = self.rooms.together(spread)
        found = found / max(float(found.max()), 1e-9)
        return np.maximum(found, w.spread * self._spread(found))

    def _spread(self, found: np.ndarray, partners: int = 30) -> np.ndarray:
        """(P,) each product's best (score of a found product of its kind x their look similarity)."""
        p = self.profiles
        top = np.argsort(-found)[:partners]
        top = top[found[top] > 0]
        if not len(top):
            return np.zeros_like(found)
        similar = np.clip(p.vectors @ p.vectors[top].T, 0, None) * (p.kinds[:, None] == p.kinds[top][None])
        return (similar * found[top][None]).max(axis=1)

    def _lookalikes(self, i: int, n: int, among: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The n products of i's kind (in `among`, i excluded) most like it by look and words; their similarity."""
        p = self.profiles
        similarity = 0.5 * np.clip(p.look_similarity(i), 0, None) + 0.5 * p.word_similarity(i)
        candidate = among & (p.kinds == p.kinds[i])
        candidate[i] = False
        similarity = np.where(candidate, similarity, -1.0)
        near = np.argsort(-similarity)[:n]
        near = near[similarity[near] > 0]
        return near, similarity[near].astype(np.float32)

    def _suggestion(self, rank: int, i: int, score: float, cues: dict[str, np.ndarray]) -> Suggestion:
        """A ranked product with the cue that contributed most."""
        row = self.profiles.rows.iloc[i]
        main = max(CUES, key=lambda name: getattr(self.weights, name) * float(cues[name][i]))
        return Suggestion(
            rank=rank,
            product_id=str(self.profiles.product_ids[i]),
            name=_text(row.get("name")),
            category=_text(row.get("category")),
            score=round(score, 4),
            image=str(row["image"]),
            content_hash=_text(row.get("content_hash")),
            why=WHY[main],
        )


def _text(value) -> str:
    """A display string; missing values become empty."""
    return "" if value is None or value != value else str(value)
