"""Real scene -> product pairs mined from the dev room photos, which list their products but carry no boxes.

Multiple-instance mining: a listed product is somewhere in its photo, so one detected box must show it, and the
photo's other boxes do not. Per room of a part (`room_part`: the held-out photos of `training.detector.rooms.
room_split` are never trained on; a quarter of the others, "val", choose the training settings):

1. detect the room with the query settings (low confidence, a capped number of boxes);
2. embed every box once with the base embedder; the current model (base + head, if any) scores it;
3. score each (listed product, box) by the product's best catalogue entry, and the box's rank for the product
   among every catalogue product (`rank` 1: the box already finds it);
4. assign greedily, best score first, one box per product and one product per box, preferring boxes whose detected
   class fits the product's category;
5. keep a pair when its rank is at most `max_rank` and its score at least `min_score`.

The kept pairs are training views (`source` "room") of the head trainer (`training.head`); the photo's other boxes
are their negatives (`pair_vectors`). `quality` sums a run up for the pair-quality report.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

import engine
from engine.detection.detector import Detector
from engine.embedding.head import HeadEmbedder
from engine.search.rerank import affinity
from engine.search.taxonomy import coarse_class
from training.detector.rooms import room_split
from training.metrics import best_per_group

VAL_FRACTION = 0.25  # of the training photos, kept apart to choose training settings on
MIN_BOX_SIDE = 24  # boxes smaller than this (pixels) describe no product
PAIR_COLUMNS = ["image", "product_id", "x0", "y0", "x1", "y1", "box_class", "confidence", "score", "rank", "class_fit"]


@dataclass(frozen=True)
class MiningConfig:
    """How pairs are mined and which are kept."""

    part: str = "train"  # the rooms of this part (`room_part`); never train on the held-out photos
    max_rank: int = 10  # keep a pair when its box ranks the product at most this far down the catalogue
    min_score: float = 0.3  # and the cosine between box and product is at least this
    class_fit: bool = True  # prefer boxes whose detected class fits the product's category


@dataclass
class RoomBoxes:
    """One analysed room: its usable boxes, their classes, base vectors and model vectors."""

    image: str
    boxes: np.ndarray  # (B, 4) xyxy source pixels
    classes: list[str]
    confidences: np.ndarray  # (B,)
    base: np.ndarray  # (B, D_base) base-embedder vectors (what the head trains on)
    vectors: np.ndarray  # (B, D) the current model's vectors (what mining scores with)
    listed: list[str] = field(default_factory=list)  # the catalogue products the photo lists


def analyse_room(service, detector: Detector, rooms_dir: Path, image: str) -> RoomBoxes:
    """Detect one room and embed each box big enough to describe a product."""
    analysis = detector.analyse([engine.load_image(rooms_dir / image)])[0]
    kept = [d for d in analysis.detections if min(d.box[2] - d.box[0], d.box[3] - d.box[1]) >= MIN_BOX_SIDE]
    boxes = np.array([d.box for d in kept], dtype=np.float32).reshape(-1, 4)
    embedder = service.embedder
    base_embedder = embedder.base if isinstance(embedder, HeadEmbedder) else embedder
    base = base_embedder.embed(analysis, boxes) if len(boxes) else np.zeros((0, base_embedder.dim), np.float32)
    vectors = embedder.head.apply(base, embedder.domain(analysis.image)) if isinstance(embedder, HeadEmbedder) else base
    return RoomBoxes(image, boxes, [d.class_name for d in kept], np.array([d.confidence for d in kept]), base, vectors)


class ProductScorer:
    """Box -> product similarities over the whole catalogue: a product scores its best entry."""

    def __init__(self, index):
        meta = index.meta.reset_index(drop=True)
        self.vectors = index.vectors(meta["id"].to_numpy()).astype(np.float32)  # (E, D)
        self.products, self.entry_product = np.unique(meta["product_id"].astype(str), return_inverse=True)
        self.position = {p: i for i, p in enumerate(self.products)}
        rows = meta.drop_duplicates("product_id").set_index("product_id")
        categories = rows["category"].fillna("").astype(str) if "category" in rows else pd.Series(dtype=str)
        self.classes = {str(p): coarse_class(c) if c else "" for p, c in categories.items()}

    def product_scores(self, vectors: np.ndarray) -> np.ndarray:
        """(B, D) box vectors -> (B, P) best-entry cosine per catalogue product."""
        return best_per_group(vectors @ self.vectors.T, self.entry_product)  # (B, E) -> (B, P)


def candidate_pairs(room: RoomBoxes, listed: list[str], scorer: ProductScorer) -> pd.DataFrame:
    """Every (listed product, box) of a room with its score, the product's rank for the box, and class fit."""
    known = [p for p in dict.fromkeys(listed) if p in scorer.position]
    if not known or not len(room.boxes):
        return pd.DataFrame(columns=PAIR_COLUMNS)
    scores = scorer.product_scores(room.vectors)  # (B, P)
    columns = np.array([scorer.position[p] for p in known])
    own = scores[:, columns]  # (B, L)
    ranks = 1 + (scores[:, None, :] > own[:, :, None]).sum(axis=2)  # (B, L): products scoring above
    rows = []
    for b, (x0, y0, x1, y1) in enumerate(room.boxes.tolist()):
        for j, product in enumerate(known):
            cls = scorer.classes.get(product, "")
            fit = affinity(cls, room.classes[b], 0.5) if cls else 0.5  # 1 same class, 0.5 related or unknown
            rows.append([room.image, product, x0, y0, x1, y1, room.classes[b], float(room.confidences[b]),
                         float(own[b, j]), int(ranks[b, j]), fit])  # fmt: skip
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def assign(candidates: pd.DataFrame, config: MiningConfig) -> pd.DataFrame:
    """Greedy one-to-one assignment, best first (class-fitting boxes first when asked); kept pairs only."""
    if candidates.empty:
        return candidates
    keys = ["fits", "score"] if config.class_fit else ["score"]
    ordered = candidates.assign(fits=candidates["class_fit"].gt(0)).sort_values(keys, ascending=False, kind="stable")
    used_boxes, used_products, chosen = set(), set(), []
    for row in ordered.itertuples(index=False):
        box = (row.x0, row.y0, row.x1, row.y1)
        if box in used_boxes or row.product_id in used_products:
            continue
        used_boxes.add(box)
        used_products.add(row.product_id)
        chosen.append(row._asdict())
    pairs = pd.DataFrame(chosen, columns=PAIR_COLUMNS)
    keep = pairs["rank"].le(config.max_rank) & pairs["score"].ge(config.min_score)
    return pairs[keep].reset_index(drop=True)


def room_part(image: str) -> str:
    """ "heldout" (`room_split`), else "val" for a quarter of the training photos (choosing settings), else "fit"."""
    if room_split(image) == "heldout":
        return "heldout"
    digest = hashlib.sha1(f"val:{Path(image).name}".encode()).hexdigest()
    return "val" if int(digest[:8], 16) / 16**8 < VAL_FRACTION else "fit"


def dev_rooms(rooms_dir: Path, part: str) -> list[dict]:
    """The rows of rooms.csv of a part: "train" (= "fit" + "val"), "fit", "val", "heldout" or "all"."""
    table = pd.read_csv(rooms_dir / "rooms.csv", dtype=str, keep_default_na=False)
    parts = {"all": ("fit", "val", "heldout"), "train": ("fit", "val")}.get(part, (part,))
    return [row for row in table.to_dict("records") if room_part(row["image"]) in parts]


def mine_pairs(
    service, detector: Detector, rooms_dir: str | Path, config: MiningConfig = MiningConfig(), progress: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, RoomBoxes]]:
    """(kept pairs, all candidates, analysed rooms by image) for the rooms of `config.part`.

    Catalogue products are those of `service.index` (matched by the `image` values rooms.csv lists).
    """
    rooms_dir = Path(rooms_dir)
    meta = service.index.meta.drop_duplicates("image")
    by_image = dict(zip(meta["image"].astype(str), meta["product_id"].astype(str)))
    scorer = ProductScorer(service.index)
    kept, every, analysed = [], [], {}
    for row in tqdm(dev_rooms(rooms_dir, config.part), desc="Mining room pairs", unit="room", disable=not progress):
        room = analyse_room(service, detector, rooms_dir, row["image"])
        analysed[row["image"]] = room
        listed = [by_image[p] for p in row["products"].split() if p in by_image]
        room.listed = listed
        candidates = candidate_pairs(room, listed, scorer)
        every.append(candidates.assign(n_listed=len(listed)))
        kept.append(assign(candidates, config))
    frame = lambda parts: pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=PAIR_COLUMNS)  # noqa: E731
    return frame(kept), frame(every), analysed


def box_position(room: RoomBoxes, pair) -> int:
    """The position of a pair's box among its room's boxes."""
    box = np.array([pair.x0, pair.y0, pair.x1, pair.y1], np.float32)
    return int(np.flatnonzero((room.boxes == box).all(axis=1))[0])


def pair_vectors(pairs: pd.DataFrame, rooms: dict[str, RoomBoxes]) -> tuple[np.ndarray, np.ndarray]:
    """Base vectors per kept pair: (its box, the photo's other box most like it: the closest wrong answer).

    Both (N, D_base); a photo with a single box gives the pair's own vector as its negative.
    """
    positives, negatives = [], []
    for pair in pairs.itertuples(index=False):
        room = rooms[pair.image]
        own = box_position(room, pair)
        sims = room.vectors @ room.vectors[own]
        sims[own] = -np.inf if len(sims) > 1 else sims[own]
        positives.append(room.base[own])
        negatives.append(room.base[int(np.argmax(sims))])
    if not positives:
        return np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32)
    return np.stack(positives).astype(np.float32), np.stack(negatives).astype(np.float32)


def quality(pairs: pd.DataFrame, candidates: pd.DataFrame, n_rooms: int) -> dict:
    """The pair-quality report's figures: how many listed products got a pair, and how sure the pairs are."""
    listed = int(candidates.drop_duplicates(["image", "product_id"]).shape[0]) if len(candidates) else 0
    report = {"rooms": n_rooms, "listed_products_with_boxes": listed, "pairs": int(len(pairs))}
    if not len(pairs):
        return report
    return report | {
        "pair_share": round(len(pairs) / max(listed, 1), 3),
        "distinct_products": int(pairs["product_id"].nunique()),
        "rank1_share": round(float(pairs["rank"].eq(1).mean()), 3),
        "rank_le10_share": round(float(pairs["rank"].le(10).mean()), 3),
        "class_fit_share": round(float(pairs["class_fit"].ge(1).mean()), 3),
        "score_quartiles": [round(float(q), 3) for q in pairs["score"].quantile([0.25, 0.5, 0.75])],
        "box_classes": pairs["box_class"].value_counts().to_dict(),
    }


def boxes_table(rooms: dict[str, RoomBoxes]) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Every box of the analysed rooms as arrays (base vectors, room number, class) plus the rooms' listings.

    What a training run needs to measure shop-the-look recall on these photos without detecting them again.
    """
    ordered = list(rooms.values())
    dim = max((r.base.shape[1] for r in ordered if r.base.ndim == 2), default=0)
    arrays = {
        "base": np.concatenate([r.base.reshape(-1, dim) for r in ordered]) if ordered else np.zeros((0, 0)),
        "room": np.concatenate([np.full(len(r.boxes), i) for i, r in enumerate(ordered)]).astype(np.int64),
        "box": np.concatenate([r.boxes for r in ordered]) if ordered else np.zeros((0, 4)),
        "box_class": np.array([c for r in ordered for c in r.classes], dtype=str),
    }
    return arrays, [{"image": r.image, "listed": r.listed} for r in ordered]
