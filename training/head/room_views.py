"""Mined room pairs (`scripts/mine_room_pairs.py`) as the head's training views, triplets and evaluation set.

A pairs folder holds `pairs.csv` (room photo, product, box...), `base.npy` (each pair's box as a base vector) and
`negatives.npy` (the photo's other box most like it). Each pair becomes a view of its product with source "room";
its triplet is (room crop, the product's main catalogue entry, the closest wrong box of the same photo).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.index.store import CatalogIndex
from engine.search.rerank import main_entry
from training.head.data import SplitRule, product_key
from training.head.sets import index_views
from training.head.train import product_ranking
from training.metrics import is_large_item

K = 10


def load_pairs(pairs_dir: str | Path, max_rank: int | None = None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(pairs, (N, D) box base vectors, (N, D) negative base vectors) of a pairs folder; with `max_rank`, only the
    pairs whose box ranked the product at most that far down when mined."""
    pairs_dir = Path(pairs_dir)
    pairs = pd.read_csv(pairs_dir / "pairs.csv", dtype={"product_id": str, "image": str})
    base = np.load(pairs_dir / "base.npy", allow_pickle=False).astype(np.float32)
    negatives = np.load(pairs_dir / "negatives.npy", allow_pickle=False).astype(np.float32)
    if not (len(pairs) == len(base) == len(negatives)):
        raise ValueError(f"'{pairs_dir}': pairs.csv, base.npy and negatives.npy disagree on the number of pairs")
    keep = pairs["rank"].le(max_rank).to_numpy() if max_rank else np.ones(len(pairs), dtype=bool)
    return pairs[keep].reset_index(drop=True), base[keep], negatives[keep]


def room_views(pairs: pd.DataFrame, base: np.ndarray, index: CatalogIndex) -> tuple[pd.DataFrame, np.ndarray]:
    """Pairs of products in the base index as views (source "room"), labelled like the index's own views."""
    labels, _ = index_views(index)
    labels = labels.drop_duplicates("product_id").set_index("product_id")
    known = pairs["product_id"].isin(labels.index).to_numpy()
    rows = labels.loc[pairs.loc[known, "product_id"]].reset_index()
    rows = rows.assign(source="room", image=pairs.loc[known, "image"].to_numpy())
    return rows, base[known]


def room_triplets(
    pairs: pd.DataFrame, base: np.ndarray, negatives: np.ndarray, index: CatalogIndex, rule: SplitRule
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(room crops, their products' main entries, the closest wrong boxes) of training-family pairs only."""
    views, _ = room_views(pairs, base, index)
    meta = index.meta
    entry = {p: main_entry(rows) for p, rows in meta.groupby(meta["product_id"].astype(str))}
    known = pairs["product_id"].isin(entry).to_numpy()
    trains = views["family"].map(rule).eq("train").to_numpy()
    distinct = ~np.all(np.isclose(base, negatives), axis=1)  # a lone box is its own negative: no triplet
    keep = np.flatnonzero(known)[trains & distinct[known]]
    if not len(keep):
        return None
    positives = index.vectors(np.array([entry[p] for p in pairs["product_id"].iloc[keep]])).astype(np.float32)
    return base[keep], positives, negatives[keep]


def merge_triplets(*parts) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Concatenate triplet sets (None parts skipped)."""
    parts = [p for p in parts if p is not None and len(p[0])]
    if not parts:
        return None
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))


@dataclass
class RoomRecall:
    """Shop-the-look recall@10 on room photos from their stored boxes: a listed product counts as found when one
    box of its photo has it in its top 10 (the benchmark's rooms figure, without the class bonus)."""

    base: np.ndarray  # (B, D_base) every box of every photo
    room: np.ndarray  # (B,) the photo each box belongs to
    listed: list[list[str]]  # per photo, the product keys it lists
    large: set[str]  # keys of large items (sofas, beds, tables, wardrobes...)

    @classmethod
    def load(cls, folder: Path, index: CatalogIndex) -> RoomRecall | None:
        """From a pairs folder's boxes.npz and rooms.json (None when it has none)."""
        if not (folder / "boxes.npz").is_file() or not (folder / "rooms.json").is_file():
            return None
        arrays = np.load(folder / "boxes.npz", allow_pickle=False)
        catalog = Path(index.manifest["images_root"]).name
        listed = [
            [product_key(catalog, p) for p in room["listed"]]
            for room in json.loads((folder / "rooms.json").read_text())
        ]
        labels, _ = index_views(index)
        large = set(labels.loc[labels["category"].map(is_large_item), "key"])
        return cls(arrays["base"].astype(np.float32), arrays["room"], listed, large)

    def figures(self, project, gallery: np.ndarray, gallery_keys: np.ndarray) -> dict:
        """'room recall@10' and 'room large recall@10' with the boxes mapped by `project` (base -> model vectors)."""
        ranked = product_ranking(project(self.base), gallery, gallery_keys, K)  # (B, K) product keys
        found = [set(ranked[self.room == i].ravel()) for i in range(len(self.listed))]
        hits = [(key in f, key in self.large) for f, keys in zip(found, self.listed) for key in keys]
        recall = float(np.mean([h for h, _ in hits])) if hits else 0.0
        large = [h for h, is_large in hits if is_large]
        return {
            "room recall@10": round(recall, 4),
            "room large recall@10": round(float(np.mean(large)), 4) if large else 0.0,
        }


class RoomPairs:
    """The mined pairs a training run uses: training pairs (views + triplets) and held-out pairs (an eval set)."""

    def __init__(self, train=None, heldout=None, index: CatalogIndex | None = None, recall: RoomRecall | None = None):
        self.train, self.heldout, self.index, self.recall = train, heldout, index, recall

    @classmethod
    def load(
        cls, train_dir: Path | None, heldout_dir: Path | None, indexes: list[CatalogIndex], max_rank: int | None = None
    ) -> RoomPairs:
        """Load the folders given (either may be None; `max_rank` filters the training pairs); pairs belong to the
        index holding most of their products."""
        train = load_pairs(train_dir, max_rank) if train_dir else None
        heldout = load_pairs(heldout_dir) if heldout_dir else None
        products = set().union(*(set(p[0]["product_id"]) for p in (train, heldout) if p is not None))
        index = max(indexes, key=lambda i: len(products & set(i.meta["product_id"].astype(str)))) if products else None
        recall = RoomRecall.load(heldout_dir, index) if heldout_dir and index is not None else None
        return cls(train, heldout, index, recall)

    def views(self) -> tuple[tuple[pd.DataFrame, np.ndarray], ...]:
        """The training pairs as views (for `assemble`'s `extra`)."""
        return (room_views(self.train[0], self.train[1], self.index),) if self.train else ()

    def evals(self) -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
        """The held-out photos' pairs as the 'rooms' evaluation set."""
        return {"rooms": room_views(self.heldout[0], self.heldout[1], self.index)} if self.heldout else {}

    def triplets(self, rule: SplitRule):
        """The training pairs' triplets (room crop, product, closest wrong box), or None."""
        return room_triplets(*self.train, self.index, rule) if self.train else None
