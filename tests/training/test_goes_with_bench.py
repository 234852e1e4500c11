"""The goes-with benchmark: its recall is what it says, it learns from training photos only, and the row's switch
agrees with it on the real dev rooms (cheap cues: products.csv alone)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.search.goes_with import SHOW_ROW, Weights
from scripts.bench_goes_with import catalogue
from tests.conftest import ROOMS
from training.goes_with_bench import bootstrap, evaluate, photo_recalls, photos_of, profiles_learning_from
from training.room_pairs import room_part


def test_recall_counts_the_hidden_products_of_other_kinds_in_the_top_k():
    kinds = np.array([0, 0, 1, 2, 3])
    photos = [np.array([0, 1, 2, 3]), np.array([2, 4])]
    ranking = {0: [2, 4, 3], 1: [4, 2, 3], 2: [3, 0], 3: [1, 0], 4: [1]}
    recalls = photo_recalls(lambda q: np.array(ranking[q]), photos, kinds, k=2)
    # photo 1: query 0 finds 2 of {2, 3}: 1/2; query 1: {2, 3} -> 1/2; query 2: {0, 1, 3} -> 2/3; query 3: 2/3
    # photo 2: query 2 finds nothing of {4}; query 4 finds nothing of {2}
    assert recalls == pytest.approx([(0.5 + 0.5 + 2 / 3 + 2 / 3) / 4, 0.0])
    low, high = bootstrap(np.array([0.1, 0.2, 0.3]))
    assert 0.1 <= low < 0.2 < high <= 0.3


@pytest.mark.integration
@pytest.mark.skipif(not (ROOMS / "rooms.csv").is_file(), reason=f"no rooms.csv at {ROOMS}")
def test_held_out_photos_are_never_learned_from_and_the_row_switch_agrees_with_the_benchmark():
    rooms = pd.read_csv(ROOMS / "rooms.csv", dtype=str, keep_default_na=False)
    meta, vectors_of, _ = catalogue(None, ROOMS / "products.csv")
    profiles = profiles_learning_from(meta, vectors_of, rooms, ("fit", "val"))
    learned = {room for rooms_of in profiles.rooms for room in rooms_of}
    held_out = {image.rsplit("/", 1)[-1] for image in rooms["image"] if room_part(image) == "heldout"}
    assert learned and held_out and not learned & held_out
    photos = photos_of(rooms, "heldout", profiles)
    assert len(photos) == len(held_out)
    result = evaluate(profiles, photos, Weights())
    goes_with, baseline = result["methods"]["goes well with"], result["methods"][result["baseline"]]
    assert (goes_with["recall"] > baseline["recall"]) == SHOW_ROW, result
