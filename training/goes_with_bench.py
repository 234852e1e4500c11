"""'Goes well with' on held-out dev room photos, honest about leakage: learn from training photos only.

The dev rooms are split by photo (`training.room_pairs.room_part`: "fit" and "val" are the training photos,
"heldout" the `room_split` held-out ones). A model learns which products go together from the training photos
alone (the room lists of every other photo are hidden from it); style cues come from the catalogue itself.

On each evaluated photo, each listed product in turn is the query; the photo's other products of other kinds
are hidden and must be found: recall@k is the share of them in the query's top k. A photo's recall is the mean
over its queries; the benchmark's is the mean over photos, with a bootstrap interval over photos (the photos are
the independent unit). Compared with popularity (the training photos' most frequent products; per kind: the most
frequent product of each of the most frequent kinds) and with visual similarity alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from engine.search.goes_with import ROOMS_COLUMN, GoesWith, Profiles, Weights, format_rooms
from training.room_pairs import room_part

Ranker = Callable[[int], np.ndarray]  # query position -> positions, best first (the query's kind left out)
BOOTSTRAP = 2000
TIE_ORDERS = 20  # popularity has many ties (most products are in one photo or none): averaged over random orders


def room_lists(rooms: pd.DataFrame, parts: tuple[str, ...]) -> dict[str, list[str]]:
    """{product image: [room photo names]} over the rooms.csv rows of the given parts only."""
    found: dict[str, list[str]] = {}
    for image, products in zip(rooms["image"], rooms["products"]):
        if room_part(image) in parts:
            for product in str(products).split():
                found.setdefault(product, []).append(str(image).rsplit("/", 1)[-1])
    return found


def profiles_learning_from(meta: pd.DataFrame, vectors_of, rooms: pd.DataFrame, parts: tuple[str, ...]) -> Profiles:
    """Profiles of the catalogue whose room lists come from the given parts' photos only."""
    lists = room_lists(rooms, parts)
    learned = meta.assign(**{ROOMS_COLUMN: meta["image"].map(lambda image: format_rooms(lists.get(image, [])))})
    return Profiles.from_meta(learned, vectors_of)


def photos_of(rooms: pd.DataFrame, part: str, profiles: Profiles) -> list[np.ndarray]:
    """Each photo of a part as the positions of its listed products that the catalogue has."""
    position = {image: i for i, image in enumerate(profiles.rows["image"])}
    photos = []
    for image, products in zip(rooms["image"], rooms["products"]):
        if room_part(image) == part:
            found = [position[p] for p in str(products).split() if p in position]
            if len(found) >= 2:
                photos.append(np.array(sorted(set(found))))
    return photos


def photo_recalls(rank: Ranker, photos: list[np.ndarray], kinds: np.ndarray, k: int = 10) -> np.ndarray:
    """(photos,) mean recall@k over each photo's queries (queries with no other-kind product are skipped)."""
    out = []
    for photo in photos:
        scores = []
        for query in photo.tolist():
            hidden = photo[kinds[photo] != kinds[query]]
            if len(hidden):
                scores.append(np.isin(hidden, rank(query)[:k]).mean())
        out.append(float(np.mean(scores)) if scores else np.nan)
    return np.array([v for v in out if v == v])


def bootstrap(values: np.ndarray, baseline: np.ndarray | None = None, seed: int = 0) -> tuple[float, float]:
    """95% interval of the mean over photos (or, with a paired baseline, of mean / baseline mean)."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(values), size=(BOOTSTRAP, len(values)))
    means = values[picks].mean(axis=1)
    if baseline is not None:
        means = means / np.maximum(baseline[picks].mean(axis=1), 1e-9)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def model_ranker(model: GoesWith) -> Ranker:
    """The engine's ranking for one product, as positions."""

    def rank(query: int) -> np.ndarray:
        total = model.blend(model.cues(np.array([query]), np.ones(1, dtype=np.float32)), np.array([query]))
        return model.ranked(total)

    return rank


def popularity_ranker(model: GoesWith, seed: int = 0) -> Ranker:
    """The training photos' most frequent products, the query's kind left out (ties in a random order)."""
    popularity = _tie_broken(model.rooms.popularity, seed)
    kinds = model.profiles.kinds
    return lambda query: _ordered(np.where(kinds == kinds[query], -np.inf, popularity))


def kind_popularity_ranker(model: GoesWith, seed: int = 0) -> Ranker:
    """The most frequent product of each kind, kinds by how many training photos show them, the query's left out."""
    kinds, popularity = model.profiles.kinds, _tie_broken(model.rooms.popularity, seed)
    seen_per_kind = np.bincount(kinds, weights=popularity, minlength=len(model.profiles.kind_names))
    best_first = np.lexsort((-popularity, kinds))  # by kind, most frequent first
    first_of_kind = best_first[np.r_[True, kinds[best_first][1:] != kinds[best_first][:-1]]]
    order_of_kind = first_of_kind[np.argsort(-seen_per_kind[kinds[first_of_kind]], kind="stable")]
    rest = np.argsort(-popularity, kind="stable")
    ranked = np.concatenate([order_of_kind, rest[~np.isin(rest, order_of_kind)]])
    return lambda query: ranked[kinds[ranked] != kinds[query]]


def visual_ranker(model: GoesWith) -> Ranker:
    """Visual similarity alone: the products whose look vector is closest, the query's kind left out."""
    profiles = model.profiles
    return lambda query: _ordered(
        np.where(profiles.kinds == profiles.kinds[query], -np.inf, profiles.look_similarity(query))
    )


def _tie_broken(popularity: np.ndarray, seed: int) -> np.ndarray:
    """(P,) popularity plus a random fraction below 1: equal counts in a random order."""
    return popularity.astype(np.float64) + np.random.default_rng(seed).random(len(popularity)) * 0.5


def _ordered(total: np.ndarray) -> np.ndarray:
    """Positions by score, best first, dropping -inf."""
    order = np.argsort(-total, kind="stable")
    return order[np.isfinite(total[order])]


def evaluate(profiles: Profiles, photos: list[np.ndarray], weights: Weights, k: int = 10) -> dict:
    """Recall@k per method over the photos, with intervals; goes-with's ratio to the stronger popularity."""
    model = GoesWith(profiles, weights)
    style_only = GoesWith(replace(profiles, rooms=[[] for _ in profiles.rooms]), weights)
    methods = {
        "goes well with": model_ranker(model),
        "style cues only (no rooms)": model_ranker(style_only),
    }
    if np.abs(profiles.vectors).sum() > 0:  # look vectors come from an index; without one there is nothing to rank by
        methods["visual similarity alone"] = visual_ranker(model)
    recalls = {name: photo_recalls(rank, photos, profiles.kinds, k) for name, rank in methods.items()}
    for name, ranker in (("popularity", popularity_ranker), ("popularity, per kind", kind_popularity_ranker)):
        tries = [photo_recalls(ranker(model, seed), photos, profiles.kinds, k) for seed in range(TIE_ORDERS)]
        recalls[name] = np.mean(tries, axis=0)  # (photos,) expected recall over tie orders
    popular = max(("popularity", "popularity, per kind"), key=lambda name: recalls[name].mean())
    result = {"photos": len(recalls["popularity"]), "k": k, "baseline": popular, "methods": {}}
    listed = np.concatenate(photos) if photos else np.zeros(0, dtype=np.int64)
    queries = sum(int((profiles.kinds[photo] != profiles.kinds[q]).any()) for photo in photos for q in photo)
    seen = float(np.mean([bool(profiles.rooms[i]) for i in listed])) if len(listed) else 0.0
    result |= {"queries": queries, "candidates": len(profiles), "seen_share": seen}
    for name, values in recalls.items():
        low, high = bootstrap(values)
        result["methods"][name] = {"recall": float(values.mean()), "ci": [low, high]}
    ratio = recalls["goes well with"].mean() / max(recalls[popular].mean(), 1e-9)
    result["ratio"] = {"value": float(ratio), "ci": list(bootstrap(recalls["goes well with"], recalls[popular]))}
    return result


def tune(profiles: Profiles, photos: list[np.ndarray], grid: list[Weights], k: int = 10) -> list[tuple[float, Weights]]:
    """(recall@k, weights) for each candidate, best first: for choosing weights on validation photos."""
    scored = [
        (float(photo_recalls(model_ranker(GoesWith(profiles, w)), photos, profiles.kinds, k).mean()), w) for w in grid
    ]
    return sorted(scored, key=lambda pair: -pair[0])
