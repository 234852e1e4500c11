"""What designers put together: which products share a room photo, how often each appears, which kinds go together.

A catalogue build that finds a `rooms.csv` stores, in each product's metadata, the names of the room photos
that show it (`ROOMS_COLUMN`, a JSON list; `catalog.rooms`). `RoomStats` turns those lists into a product x room
incidence matrix; products added later in the app simply have none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from engine.search.taxonomy import coarse_class

ROOMS_COLUMN = "room_photos"  # product metadata: JSON list of the room photos that show the product
KIND_PRIOR = 2.0  # rooms' worth of the coarse-class estimate a fine kind's estimate is pulled towards
MAX_ROOM_NAME = 300  # characters; longer names in a stored list are ignored


def format_rooms(names) -> str:
    """The stored value of a product's room photos: a sorted JSON list ('[]' for none)."""
    return json.dumps(sorted({str(name) for name in names}))


def parse_rooms(value) -> list[str]:
    """Inverse of `format_rooms`; an empty list for a missing or malformed value (never raises)."""
    if not isinstance(value, str) or not value.startswith("["):
        return []
    try:
        names = json.loads(value)
    except ValueError:
        return []
    if not isinstance(names, list):
        return []
    return [name for name in names if isinstance(name, str) and 0 < len(name) <= MAX_ROOM_NAME]


@dataclass
class RoomStats:
    """Room photos of a catalogue as arrays over its P products (rows) and N room photos (columns)."""

    incidence: np.ndarray  # (P, N) float32: 1 where the product appears in the photo
    room_names: list[str]  # (N,)
    kind_affinity: np.ndarray  # (K, K) float32: P(a product of kind b is in a photo | one of kind a is)

    @classmethod
    def from_lists(cls, rooms_per_product: list[list[str]], kinds: np.ndarray, kind_names: list[str]) -> RoomStats:
        """Stats from each product's room list; `kinds` (P,) codes into `kind_names` (the categories)."""
        names = sorted({name for rooms in rooms_per_product for name in rooms})
        column = {name: j for j, name in enumerate(names)}
        incidence = np.zeros((len(rooms_per_product), len(names)), dtype=np.float32)
        for i, rooms in enumerate(rooms_per_product):
            incidence[i, [column[name] for name in rooms]] = 1.0
        return cls(incidence, names, _kind_affinity(incidence, kinds, kind_names))

    @property
    def n_rooms(self) -> int:
        """Room photos with at least one product of the catalogue."""
        return len(self.room_names)

    @property
    def popularity(self) -> np.ndarray:
        """(P,) in how many room photos each product appears."""
        return self.incidence.sum(axis=1)

    def together(self, weights: np.ndarray) -> np.ndarray:
        """(P,) weighted (P,) anchors -> how often each product shares a photo with them, photos weighted by
        1 / log2(1 + products in the photo) (a crowded photo says less about each pair)."""
        sizes = np.maximum(self.incidence.sum(axis=0), 1.0)
        per_room = (self.incidence.T @ weights) / np.log2(1.0 + sizes)  # (N,)
        return self.incidence @ per_room


def _kind_affinity(incidence: np.ndarray, kinds: np.ndarray, kind_names: list[str]) -> np.ndarray:
    """(K, K) share of the photos with kind a that also show kind b, pulled towards the coarse classes' share."""
    n_kinds = len(kind_names)
    coarse_names = sorted({coarse_class(name) for name in kind_names})
    coarse = np.array([coarse_names.index(coarse_class(name)) for name in kind_names], dtype=np.int64)
    fine = _kinds_in_rooms(incidence, kinds, n_kinds)  # (K, N)
    broad = _kinds_in_rooms(incidence, coarse[kinds] if len(kinds) else kinds, len(coarse_names))  # (C, N)
    broad_share = (broad @ broad.T) / np.maximum(broad.sum(axis=1, keepdims=True), 1.0)  # (C, C)
    prior = broad_share[coarse][:, coarse]  # (K, K)
    together = fine @ fine.T
    seen = fine.sum(axis=1, keepdims=True)
    return ((together + KIND_PRIOR * prior) / (seen + KIND_PRIOR)).astype(np.float32)


def _kinds_in_rooms(incidence: np.ndarray, codes: np.ndarray, n: int) -> np.ndarray:
    """(n, N) 1 where a photo shows at least one product of the kind."""
    shown = np.zeros((n, incidence.shape[1]), dtype=np.float32)
    if len(codes):
        np.maximum.at(shown, codes, incidence)
    return shown
